import type { ActiveWindow } from './capture/window-info.js';

/**
 * Exclusion rules: a frame is not captured at all (nothing reaches the disk) while the active window's
 * application or title contains one of these case-insensitive substrings.
 */

/** Password managers, skipped unless OPENRECALL_EXCLUDE_DEFAULTS=false. Matched against app names (WM_CLASS, process name). */
export const DEFAULT_EXCLUDED_APPS: readonly string[] = [
  'keepass', // KeePass, KeePassX, KeePassXC
  '1password',
  'bitwarden',
  'lastpass',
  'dashlane',
  'enpass',
  'nordpass',
  'roboform',
  'keeper password', // Keeper Password Manager
  'proton pass',
  'passwordsafe', // Password Safe / pwsafe
  'pwsafe',
  'seahorse', // GNOME Passwords and Keys
  'kwalletmanager',
  'keychain access', // macOS
];

/** Private/incognito browser windows (their titles carry these markers), skipped unless OPENRECALL_EXCLUDE_DEFAULTS=false. */
export const DEFAULT_EXCLUDED_TITLES: readonly string[] = [
  'private browsing', // Firefox "— Mozilla Firefox Private Browsing", Safari, LibreWolf
  'incognito', // Chrome, Chromium, Vivaldi "(Incognito)"
  'inprivate', // Edge "[InPrivate]"
  '(private)', // Brave "(Private)"
  'private window', // Opera, Brave
  'tor browser',
];

export interface PrivacyRules {
  excludeApps: string[];
  excludeTitles: string[];
}

export interface ExclusionMatch {
  /** For the log; never includes the window title itself. */
  rule: string;
}

/** Splits a comma-separated list, trimmed and lower-cased, empty entries dropped. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}

export function buildRules(excludeApps: string[], excludeTitles: string[], includeDefaults: boolean): PrivacyRules {
  const lower = (list: readonly string[]) => list.map((s) => s.toLowerCase());
  return {
    excludeApps: [...new Set([...lower(excludeApps), ...(includeDefaults ? DEFAULT_EXCLUDED_APPS : [])])],
    excludeTitles: [...new Set([...lower(excludeTitles), ...(includeDefaults ? DEFAULT_EXCLUDED_TITLES : [])])],
  };
}

/** The first rule the window matches, or undefined when it may be captured. */
export function exclusionFor(window: ActiveWindow, rules: PrivacyRules): ExclusionMatch | undefined {
  const names = [window.app, ...window.appNames].filter(Boolean).map((n) => n.toLowerCase());
  for (const pattern of rules.excludeApps) {
    if (names.some((n) => n.includes(pattern))) return { rule: `app matches "${pattern}"` };
  }
  const title = window.title.toLowerCase();
  for (const pattern of rules.excludeTitles) {
    if (title.includes(pattern)) return { rule: `title matches "${pattern}"` };
  }
  return undefined;
}

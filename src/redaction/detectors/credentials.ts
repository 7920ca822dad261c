import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import { fromJoined, TOKEN_PREFIXES } from '../views.js';
import type { Detector, Finding, TextViews } from '../types.js';

// secretlint's engine marks every rule's start and end on a process-wide profiler that keeps every mark forever and
// scans them all at each new one: each call cost more than the last (82 ms a title after 1 800 titles, and 11 ms of
// CPU an upload on average in the ingest benchmark, most of the HTTP process's time). Nothing here reads its figures.
secretLintProfiler.mark = () => {};

/** Between the views given to secretlint in one call; no rule matches across it. */
const SEPARATOR = '\n\n\u0000\n\n';

/** The preset as published, plus the AWS rule's scan for access key IDs (off by default there: a repository lints for secrets, a screen hides both). */
const CONFIG = {
  rules: [
    {
      id: '@secretlint/secretlint-rule-preset-recommend',
      rule: recommendedRules,
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    },
  ],
};

/**
 * Tokens of the credential formats secretlint's recommended preset knows (AWS, GCP, Azure, GitHub, GitLab,
 * Slack, npm, OpenAI, Anthropic, Stripe, Twilio, SendGrid, private keys, basic-auth URLs, …). The rules are
 * run as published, through secretlint's own engine, over the text and over its OCR-tolerant views (token
 * prefixes fixed, split tokens joined): one call per text, about a millisecond once warm.
 */
export const secretlintDetector: Detector = {
  name: 'secretlint',
  async detect(text: string, views: TextViews): Promise<Finding[]> {
    const content = [text, views.prefixFixed, views.joined].join(SEPARATOR);
    const result = await lintSource({
      source: { content, filePath: '/screen.txt', ext: '.txt', contentType: 'text' },
      options: { config: CONFIG, maskSecrets: false },
    });
    const findings: Finding[] = [];
    const second = text.length + SEPARATOR.length;
    const third = second + views.prefixFixed.length + SEPARATOR.length;
    for (const message of result.messages) {
      const [from, to] = message.range;
      const rule = message.ruleId.replace('@secretlint/secretlint-rule-', '');
      const kind = rule === 'privatekey' ? 'private-key' : 'credential';
      if (to <= text.length) findings.push({ kind, rule, start: from, end: to });
      else if (from >= second && to <= second + views.prefixFixed.length) findings.push({ kind, rule, start: from - second, end: to - second });
      else if (from >= third && to > from) findings.push({ kind, rule, ...fromJoined(views, from - third, to - third) });
    }
    return findings;
  },
};

/** JSON Web Tokens (header.payload.signature, base64url); the preset has no rule for them. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

export const jwtDetector: Detector = {
  name: 'jwt',
  detect(_text, views) {
    const findings: Finding[] = [];
    for (const m of views.joined.matchAll(JWT)) findings.push({ kind: 'credential', rule: 'jwt', ...fromJoined(views, m.index, m.index + m[0].length) });
    return findings;
  },
};

const KEY_BEGIN = /-{2,}\s*BEGIN[A-Z0-9 ]*PRIVATE\s+KEY(?:\s+BLOCK)?\s*-{2,}/gi;
const KEY_END = /-{2,}\s*END[A-Z0-9 ]*PRIVATE\s+KEY(?:\s+BLOCK)?\s*-{2,}/i;
const BASE64_LINE = /^[A-Za-z0-9+/=\s]{12,}$/;

/**
 * A private key block, read from the screen: often cut off by the window or with its END line out of
 * view, so the body is every base64-looking line after BEGIN up to END or the first line that is not.
 */
export const privateKeyDetector: Detector = {
  name: 'private-key-block',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(KEY_BEGIN)) {
      let end = m.index + m[0].length;
      let cursor = end;
      while (cursor < text.length) {
        const lineEnd = text.indexOf('\n', cursor + 1) === -1 ? text.length : text.indexOf('\n', cursor + 1);
        const line = text.slice(cursor, lineEnd).trim();
        if (KEY_END.test(line)) {
          end = lineEnd;
          break;
        }
        if (line && !BASE64_LINE.test(line) && !/^[A-Za-z-]+:/.test(line)) break;
        end = lineEnd;
        cursor = lineEnd;
      }
      findings.push({ kind: 'private-key', rule: 'private-key-block', start: m.index, end });
    }
    return findings;
  },
};

const PREFIXED_TOKEN = new RegExp(`(?<![A-Za-z0-9_])(?:${TOKEN_PREFIXES.map((p) => p.replace(/[.]/g, '\\.')).join('|')})\\S{12,}`, 'g');

/**
 * A token that starts like one of the formats above but whose body OCR garbled ("J" read as ")", "0" as
 * "O"), so the format's own rule no longer matches: the prefix and the length are evidence enough on a screen.
 */
export const tokenPrefixDetector: Detector = {
  name: 'token-prefix',
  detect(_text, views) {
    const findings: Finding[] = [];
    for (const m of views.joined.matchAll(PREFIXED_TOKEN))
      findings.push({ kind: 'credential', rule: 'token-prefix', ...fromJoined(views, m.index, m.index + m[0].length) });
    return findings;
  },
};

/** Bits per character of a string's own character distribution. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}

const LONG_TOKEN = /(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/.-]{24,}={0,2}/g;

/**
 * A long generated token of upper- and lower-case letters and digits (gitleaks' "generic API key" idea): what
 * is left of a known format once OCR garbled its prefix ("xo0xb-…"). Hex (hashes, UUIDs) is not a secret.
 */
export const highEntropyDetector: Detector = {
  name: 'high-entropy',
  detect(_text, views) {
    const findings: Finding[] = [];
    for (const m of views.joined.matchAll(LONG_TOKEN)) {
      const token = m[0];
      if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/\d/.test(token) || /^[0-9a-fA-F-]+$/.test(token)) continue;
      if (entropy(token) < 4) continue;
      findings.push({ kind: 'credential', rule: 'high-entropy', ...fromJoined(views, m.index, m.index + token.length) });
    }
    return findings;
  },
};

/** scheme://user:password@host as OCR reads it: spaces around ":" and "//", "@" read as "e" or joined to the host. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*\s?:\s?\/\/\s?[^\s:@/]{1,64}\s?:\s?([^\s/]{3,128})/gi;

export const urlCredentialsDetector: Detector = {
  name: 'url-credentials',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(URL_CREDENTIALS)) {
      const start = m.index + m[0].length - m[1]!.length;
      if (/^\d+$/.test(m[1]!)) continue; // host:port, no user
      findings.push({ kind: 'credential', rule: 'url-credentials', start, end: start + m[1]!.length });
    }
    return findings;
  },
};

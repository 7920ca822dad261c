import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError, type OcrEngineName } from '../../config.js';

const require = createRequire(import.meta.url);

/** Where Debian's tesseract-ocr-<lang> packages put their models (Tesseract 5, then 4). */
const DEBIAN_TESSDATA = ['/usr/share/tesseract-ocr/5/tessdata', '/usr/share/tesseract-ocr/4.00/tessdata'];

export interface LanguageFile {
  code: string;
  /** A .traineddata file, or a gzipped one (.traineddata.gz). */
  file: string;
}

/** `eng+deu+chi_sim` → ['eng', 'deu', 'chi_sim']; the format is checked by the config reader. */
export const languageCodes = (spec: string) => spec.split('+').filter(Boolean);

export const debianPackage = (code: string) => `tesseract-ocr-${code.toLowerCase().replace(/_/g, '-')}`;

/** The one line that says how to install a language that is missing. */
export function missingLanguageMessage(code: string, engine: OcrEngineName): string {
  const debian = `apt-get install ${debianPackage(code)}`;
  return engine === 'tesseract-cli'
    ? `OPENRECALL_OCR_LANGUAGES: the tesseract command has no "${code}" model: install the Debian package ${debianPackage(code)} (${debian})`
    : `OPENRECALL_OCR_LANGUAGES: no "${code}" model on this machine: install the npm package @tesseract.js-data/${code} (npm install @tesseract.js-data/${code}) or the Debian package ${debianPackage(code)} (${debian})`;
}

/** A language's model for tesseract.js: the npm package @tesseract.js-data/<code> first, then Debian's. */
export function findLanguage(code: string): LanguageFile | undefined {
  try {
    const dir = path.join(path.dirname(require.resolve(`@tesseract.js-data/${code}/package.json`)), '4.0.0_best_int');
    for (const name of [`${code}.traineddata.gz`, `${code}.traineddata`]) {
      if (fs.existsSync(path.join(dir, name))) return { code, file: path.join(dir, name) };
    }
  } catch {
    // not installed from npm
  }
  for (const dir of DEBIAN_TESSDATA) {
    const file = path.join(dir, `${code}.traineddata`);
    if (fs.existsSync(file)) return { code, file };
  }
  return undefined;
}

/** Every language's model for tesseract.js, or a ConfigError naming the package of the first one missing. */
export function resolveLanguages(spec: string): LanguageFile[] {
  return languageCodes(spec).map((code) => {
    const found = findLanguage(code);
    if (!found) throw new ConfigError(missingLanguageMessage(code, 'tesseract-js'));
    return found;
  });
}

/** Languages the native tesseract command has (empty when the command is missing: its own check says so). */
export function cliLanguages(command = 'tesseract'): Set<string> {
  try {
    const out = execFileSync(command, ['--list-langs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return new Set(
      out
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean),
    );
  } catch {
    return new Set();
  }
}

/** Checked before the server starts: a language that is not installed stops it with one line. */
export function checkOcrLanguages(engine: OcrEngineName, spec: string): void {
  if (engine === 'none') return;
  if (engine === 'tesseract-js') {
    resolveLanguages(spec);
    return;
  }
  const installed = cliLanguages();
  if (installed.size === 0) return;
  const missing = languageCodes(spec).find((code) => !installed.has(code));
  if (missing) throw new ConfigError(missingLanguageMessage(missing, 'tesseract-cli'));
}

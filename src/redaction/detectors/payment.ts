import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import type { Detector, Finding } from '../types.js';

/** OCR's readings of digits as letters, as far as card and account numbers go. */
const DIGIT_OF: Record<string, string> = { O: '0', o: '0', D: '0', I: '1', l: '1', '|': '1', i: '1', S: '5', s: '5', B: '8', Z: '2', z: '2' };
const digitsOf = (s: string) => [...s].map((c) => DIGIT_OF[c] ?? c).join('');

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** 13 to 19 digits, single spaces or dashes between groups, some digits possibly read as letters by OCR. */
const CARD_RUN = /(?<![A-Za-z0-9])[0-9OolI|SBZ](?:[ -]?[0-9OolI|SBZ]){12,22}(?![A-Za-z0-9])/g;

export const cardDetector: Detector = {
  name: 'card-luhn',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(CARD_RUN)) {
      const raw = m[0].replace(/[ -]/g, '');
      if ((raw.match(/[0-9]/g)?.length ?? 0) < raw.length - 2) continue; // mostly letters: a word, not a number
      // A run may carry a neighbouring number (an expiry, a CVC): try the longest Luhn-valid prefix first.
      const digits = digitsOf(raw);
      for (let length = Math.min(19, digits.length); length >= 13; length--) {
        if (!luhnValid(digits.slice(0, length)) || /^(\d)\1+$/.test(digits.slice(0, length))) continue;
        findings.push({ kind: 'card', rule: 'card-luhn', start: m.index, end: m.index + offsetAfterChars(m[0], length) });
        break;
      }
    }
    return findings;
  },
};

/** The offset in `run` just after its `count`-th non-separator character. */
function offsetAfterChars(run: string, count: number): number {
  let seen = 0;
  for (let i = 0; i < run.length; i++) {
    if (run[i] !== ' ' && run[i] !== '-') seen++;
    if (seen === count) return i + 1;
  }
  return run.length;
}

const IBAN_RUN = /(?<![A-Za-z0-9])[A-Z]{2}[0-9OolI|]{2}(?:[ ]?[A-Z0-9]){10,32}/g;

/** IBANs whose checksum holds (ibantools), printed in groups of four or as one word. */
export const ibanDetector: Detector = {
  name: 'iban',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(IBAN_RUN)) {
      const run = m[0].slice(0, 2) + digitsOf(m[0].slice(2, 4)) + m[0].slice(4);
      for (let end = run.length; end >= 15; end--) {
        if (run[end - 1] === ' ') continue;
        const candidate = electronicFormatIBAN(run.slice(0, end));
        if (candidate && isValidIBAN(candidate)) {
          findings.push({ kind: 'iban', rule: 'iban', start: m.index, end: m.index + end });
          break;
        }
      }
    }
    return findings;
  },
};

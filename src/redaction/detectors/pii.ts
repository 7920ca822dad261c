import type { Detector, Finding } from '../types.js';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** An international or national number: 9 to 15 digits with the usual separators. */
const PHONE = /(?<![\w+])(?:\+|00)?\d[\d ()./-]{7,18}\d(?!\w)/g;
/** A name after a label that says it is one (free text names need a model; labels are what forms show). */
const NAME =
  /(?<![\p{L}])(?:name|full name|cardholder|name on card|nom|nombre|nome|naam|姓名)\s*[:：][ \t]*(\p{Lu}[\p{L}'-]+(?:[ \t]\p{Lu}[\p{L}'-]+){0,3})/giu;

export const emailDetector: Detector = {
  name: 'email',
  detect: (text) => [...text.matchAll(EMAIL)].map((m) => ({ kind: 'email', rule: 'email', start: m.index, end: m.index + m[0].length }) satisfies Finding),
};

export const phoneDetector: Detector = {
  name: 'phone',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(PHONE)) {
      const digits = m[0].replace(/\D/g, '').length;
      if (digits < 9 || digits > 15 || /^\d{4}-\d{2}-\d{2}/.test(m[0])) continue; // a date is not a number to call
      findings.push({ kind: 'phone', rule: 'phone', start: m.index, end: m.index + m[0].length });
    }
    return findings;
  },
};

export const nameDetector: Detector = {
  name: 'person-name',
  detect(text) {
    return [...text.matchAll(NAME)].map((m) => {
      const start = m.index + m[0].length - m[1]!.length;
      return { kind: 'name', rule: 'labelled-name', start, end: start + m[1]!.length } satisfies Finding;
    });
  },
};

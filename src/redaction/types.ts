/** What was found; stored and shown (never the value itself). */
export type RedactionKind = 'credential' | 'private-key' | 'card' | 'iban' | 'password' | 'secret' | 'email' | 'phone' | 'name';

/** A value to hide: [start, end) in the text the detectors were given. */
export interface Finding {
  kind: RedactionKind;
  /** The detector (for credentials the secretlint rule) that fired. */
  rule: string;
  start: number;
  end: number;
}

/** A rectangle in image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An OCR word: where it sits in the OCR text and on the screen. */
export interface LocatedWord {
  start: number;
  end: number;
  box: Box;
}

/** Which detector families run: secrets always (when redaction is on), PII only when switched on. */
export interface RedactionPolicy {
  pii: boolean;
  /** The detectors to run instead of the families above (a caller with its own rules). */
  detectors?: Detector[];
}

export interface Detector {
  readonly name: string;
  /** `text` is the original; `views` are OCR-tolerant variants of it (see views.ts). */
  detect(text: string, views: TextViews): Finding[] | Promise<Finding[]>;
}

/** Variants of one text, each with a way back to offsets in the original. */
export interface TextViews {
  /** Same length as the original: OCR confusions fixed in the prefixes of known token formats. */
  prefixFixed: string;
  /** Each line with its whitespace removed (joins a long token that OCR split in pieces). */
  joined: string;
  /** joinedToOriginal[i] is the original offset of joined[i] (one extra entry for the end). */
  joinedToOriginal: number[];
}

import { confusableSource } from '../views.js';
import type { Detector, Finding, RedactionKind } from '../types.js';

/**
 * Labels whose value is a secret, in the languages OpenRecall's users read on screen. Matched however OCR
 * confused their letters ("Passw0rd", "T0KEN").
 */
const PASSWORD_LABELS = [
  // en
  'password',
  'passwd',
  'pwd',
  'passcode',
  'passphrase',
  'pin',
  'pin code',
  'cvv',
  'cvc',
  'security code',
  // de
  'passwort',
  'kennwort',
  'geheimzahl',
  'sicherheitscode',
  // fr
  'mot de passe',
  'mdp',
  'code pin',
  'code de sécurité',
  'code de securite',
  'cryptogramme',
  // es
  'contraseña',
  'contrasena',
  'clave',
  'código de seguridad',
  'codigo de seguridad',
  // it
  "parola d'ordine",
  'codice di sicurezza',
  'codice pin',
  // pt
  'senha',
  'palavra-passe',
  'código de segurança',
  'codigo de seguranca',
  // nl
  'wachtwoord',
  'pincode',
  'beveiligingscode',
];

const SECRET_LABELS = [
  // en
  'secret',
  'client secret',
  'secret key',
  'token',
  'access token',
  'auth token',
  'api key',
  'apikey',
  'api token',
  'access key',
  'private key',
  'otp',
  '2fa code',
  'bearer',
  // de
  'geheimnis',
  'schlüssel',
  'api-schlüssel',
  'zugangsschlüssel',
  'zugangscode',
  // fr
  'jeton',
  'clé api',
  'cle api',
  'clé secrète',
  'cle secrete',
  // es
  'secreto',
  'clave api',
  'clave secreta',
  // it
  'segreto',
  'chiave api',
  'chiave segreta',
  // pt
  'segredo',
  'chave api',
  'chave secreta',
  // nl
  'geheim',
  'sleutel',
  'api-sleutel',
  'geheime sleutel',
];

/** Labels whose value fills the rest of the line (several codes in a row). */
const CODE_LIST_LABELS = [
  'recovery code',
  'recovery codes',
  'backup code',
  'backup codes',
  'recovery key',
  'seed phrase',
  'recovery phrase',
  'wiederherstellungscode',
  'wiederherstellungscodes',
  'code de récupération',
  'codes de récupération',
  'code de recuperation',
  'código de recuperación',
  'codigo de recuperacion',
  'códigos de recuperación',
  'codice di recupero',
  'codici di recupero',
  'código de recuperação',
  'codigo de recuperacao',
  'herstelcode',
  'herstelcodes',
];

/** Chinese (and Japanese, Korean) labels: no word boundaries, full-width colons. */
const CJK_PASSWORD_LABELS = ['密码', '密碼', '口令', '支付密码', 'PIN码', 'パスワード', '비밀번호'];
const CJK_SECRET_LABELS = ['密钥', '密鑰', '秘钥', '令牌', '访问令牌', 'API密钥', '验证码'];
const CJK_CODE_LIST_LABELS = ['恢复码', '恢復碼', '备用码', '助记词'];

const alternation = (labels: string[], confusable: boolean) =>
  labels
    .sort((a, b) => b.length - a.length)
    .map((l) => (confusable ? confusableSource(l) : l.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')))
    .join('|');

/** `label` `:`/`=`/`：`/`is` value; the value may start on the next line when the label ends one. */
const labelled = (labels: string[], cjk: string[], value: string) =>
  new RegExp(
    `(?:(?<![\\p{L}\\p{N}_])(?:${alternation(labels, true)})|${alternation(cjk, false)})(?:\\s*\\([^)\\n]{0,20}\\))?\\s*(?:[:=：]|\\s-\\s|\\sis\\s)[ \\t]*\\n?[ \\t]*(${value})`,
    'giu',
  );

/** A value token: not a lone punctuation mark, and not the next label. */
const TOKEN = '[^\\s:=：]\\S*';

const RULES: Array<{ kind: RedactionKind; pattern: RegExp; rule: string }> = [
  { kind: 'password', rule: 'labelled-password', pattern: labelled(PASSWORD_LABELS, CJK_PASSWORD_LABELS, TOKEN) },
  { kind: 'secret', rule: 'labelled-secret', pattern: labelled(SECRET_LABELS, CJK_SECRET_LABELS, TOKEN) },
  { kind: 'secret', rule: 'labelled-codes', pattern: labelled(CODE_LIST_LABELS, CJK_CODE_LIST_LABELS, '[^\\s:=：][^\\n]*') },
  {
    kind: 'secret',
    rule: 'bearer',
    pattern: new RegExp(`(?<![\\p{L}])(?:${confusableSource('bearer')}|${confusableSource('basic')})[ \\t]+([A-Za-z0-9+/=._~-]{12,})`, 'giu'),
  },
];

/** A token that looks generated rather than written: digits mixed with letters, or mixed case inside. */
export function looksRandom(token: string): boolean {
  if (token.length < 4) return false;
  const letters = /\p{L}/u.test(token);
  const digits = /\d/.test(token);
  return (letters && digits) || /[a-z][A-Z]|[A-Z]{2,}[a-z]+[A-Z]/.test(token) || /^[A-Za-z0-9+/_=-]{16,}$/.test(token);
}

/**
 * OCR splits a long value in pieces ("ghp_8Kx 2Lq…"): the pieces that follow on the same line and look
 * generated too belong to it.
 */
function extendSplitValue(text: string, end: number): number {
  const rest = /^[ \t]([^\s]+)/;
  for (;;) {
    const next = rest.exec(text.slice(end, end + 200));
    if (!next || !looksRandom(next[1]!)) return end;
    end += next[0].length;
  }
}

export const labelledDetector: Detector = {
  name: 'labelled',
  detect(text) {
    const findings: Finding[] = [];
    for (const { kind, pattern, rule } of RULES) {
      for (const m of text.matchAll(pattern)) {
        const value = m[1]!;
        const start = m.index + m[0].length - value.length;
        let end = start + value.trimEnd().length;
        if (rule !== 'labelled-codes' && looksRandom(value)) end = extendSplitValue(text, end);
        findings.push({ kind, rule, start, end });
      }
    }
    return findings;
  },
};

/** Key names that say their value is a secret (matched after OCR's confusions are undone). */
const SECRET_KEY_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PASSWORT|PWD|PASS$|APIKEY|ACCESSKEY|PRIVATEKEY|CREDENTIAL|SIGNINGKEY|AUTHKEY|DSN$|SALT$|WEBHOOKURL/;

const KEY_VALUE = /(?<![\p{L}\p{N}_])(?:export\s+|set\s+)?([A-Za-z0-9_.|-]{3,64})["']?[ \t]*(?:=|:(?!\/\/))[ \t]*("[^"\n]*"|'[^'\n]*'|[^\s"']\S*)/gu;

const keyName = (key: string) => key.toUpperCase().replace(/[0]/g, 'O').replace(/[1|]/g, 'I').replace(/5/g, 'S').replace(/[_.-]/g, '');

/** `KEY=value` (a .env file, a shell, a YAML or JSON config): the value of a key that names a secret. */
export const keyValueDetector: Detector = {
  name: 'key-value',
  detect(text) {
    const findings: Finding[] = [];
    for (const m of text.matchAll(KEY_VALUE)) {
      if (!SECRET_KEY_NAME.test(keyName(m[1]!))) continue;
      let value = m[2]!;
      let start = m.index + m[0].length - value.length;
      if (/^["']/.test(value)) {
        value = value.slice(1, -1);
        start += 1;
      } else value = value.replace(/[,;]$/, '');
      if (!value.trim() || /^(true|false|null|none|\*+|•+)$/i.test(value.trim())) continue;
      findings.push({ kind: 'secret', rule: 'key-value', start, end: start + value.length });
    }
    return findings;
  },
};

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, RedactionError, redactText } from '../src/redaction/index.js';

const redacted = async (text: string, pii = false) => (await redactText(text, { pii })).text;

/** Each case: a screen line, the secret in it that must go, and words around it that must stay. */
const SECRETS: Array<[string, string, string[]]> = [
  ['export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY', ['export']],
  ['aws configure: AKIAQWERTYUIOPASDFGH saved', 'AKIAQWERTYUIOPASDFGH', ['configure', 'saved']],
  ['GitHub token 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 copied', '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', ['GitHub', 'copied']],
  ['curl -H "Authorization: Bearer abcdef1234567890abcdef" api', 'abcdef1234567890abcdef', ['curl']],
  ['STRIPE sk_live_51H8abcdefghijklmnopqrstuvwxyzABCDEFGHIJ live', 'sk_live_51H8abcdefghijklmnopqrstuvwxyzABCDEFGHIJ', ['STRIPE', 'live']],
  ['slack xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn bot', 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn', ['slack', 'bot']],
  [
    'jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c end',
    'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    ['jwt', 'end'],
  ],
  ['db postgres://admin:Sup3rS3cret@db.example.com:5432/app', 'Sup3rS3cret', ['db']],
  ['Card number 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111', ['Card', 'number', 'exp']],
  ['Karte 5555-5555-5555-4444 gültig', '5555-5555-5555-4444', ['Karte', 'gültig']],
  ['IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX', 'DE89 3704 0044 0532 0130 00', ['IBAN', 'BIC', 'COBADEFFXXX']],
  ['Password: hunter2 remember me', 'hunter2', ['Password', 'remember', 'me']],
  ['Passwort: Sommer2024! merken', 'Sommer2024!', ['Passwort', 'merken']],
  ['Mot de passe : s3cr3tValue', 's3cr3tValue', ['Mot', 'passe']],
  ['Contraseña: Abc123xyz', 'Abc123xyz', ['Contraseña']],
  ["Parola d'ordine: ciao1234", 'ciao1234', ['ordine']],
  ['Senha: Brasil2024', 'Brasil2024', ['Senha']],
  ['Wachtwoord: fiets123', 'fiets123', ['Wachtwoord']],
  ['登录密码：abc123456', 'abc123456', ['登录']],
  ['PIN: 4921', '4921', ['PIN']],
  ['Recovery codes: 1234-5678 abcd-efgh 9999-0000', 'abcd-efgh', ['Recovery']],
  ['DATABASE_PASSWORD="p@ss w0rd"', 'p@ss w0rd', ['DATABASE_PASSWORD']],
  ['client_secret: 8f3k2j5h6g7f8d9s', '8f3k2j5h6g7f8d9s', ['client_secret']],
];

describe('redaction detectors', () => {
  for (const [line, secret, kept] of SECRETS) {
    it(`hides "${secret}" in "${line.slice(0, 40)}…" and keeps the words around it`, async () => {
      const out = await redacted(line);
      assert.ok(!out.includes(secret), out);
      assert.ok(out.includes(REDACTED), out);
      for (const word of kept) assert.ok(out.includes(word), `"${word}" lost: ${out}`);
    });
  }

  it('fires on the forms OCR produces: I/l/1, O/0, S/5 confused, a long token split in two', async () => {
    assert.ok(!(await redacted('key AKlAQWERTYUIOPASDFGH here')).includes('QWERTYUIOPASDFGH'), 'AKlA… read for AKIA…');
    assert.ok(!(await redacted('PASSW0RD: hunter2')).includes('hunter2'), 'a zero in the label');
    assert.ok(!(await redacted('Pa55word: hunter2')).includes('hunter2'), 'fives in the label');
    assert.ok(!(await redacted('T0KEN = abc123def456')).includes('abc123def456'));
    assert.ok(!(await redacted('Card 4242 4242 4242 4Z42')).includes('4Z42'), 'a 2 read as Z');
    assert.ok(!(await redacted('card 4111 l111 1111 1111')).includes('l111'), 'a 1 read as l');
    const split = await redacted('token ghp_wWPw5k4aXcaT4fNP0Ucn ZwJUVFk6LO0pINUx ok');
    assert.ok(!split.includes('ghp_wWPw5k4aXcaT4fNP0Ucn') && !split.includes('ZwJUVFk6LO0pINUx'), split);
    assert.ok(split.endsWith(' ok'), split);
    assert.equal(await redacted('GITHUB TOKEN ghp MZYxcbrMFHphnahqAtSDVYi2pa5qvhaY6Kf3'), 'GITHUB TOKEN [redacted]', 'the underscore of ghp_ lost');
    assert.equal(await redacted('Secret key sk live YrRvrZP8Az]JiYEWhavkSsWu4'), 'Secret key [redacted]', "sk_live_'s underscores lost, a ] read");
    assert.equal(
      await redacted('SLACK_BOT=xo0xb-458761553865-1101456434556 -NoFBmvRxyexAAtxKGIQYh4RK'),
      'SLACK_BOT=[redacted]',
      'a prefix garbled: a long generated token still',
    );
    const url = await redacted('DATABASE _URL=postgres ://app: uyXDVQHHZPBhcXedb. internal: 5432/main');
    assert.ok(!url.includes('uyXDVQHHZPBhcX') && url.includes('5432/main'), `a connection string OCR spaced out: ${url}`);
    assert.equal(await redacted('see https://example.com:8443/docs'), 'see https://example.com:8443/docs', 'a port is not a password');
    const hash = 'commit 3f2a9c1d4e5b6a7980f1e2d3c4b5a69788796a5b merged';
    assert.equal(await redacted(hash), hash, 'a hash is not a secret');
    const key = await redacted(
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\nhello world',
    );
    assert.ok(!key.includes('MIIEow') && !key.includes('VTLw7on') && key.includes('hello world'), 'a key block without its END line (cut off)');
  });

  it('leaves ordinary text alone: dates, amounts, order numbers, prose, invalid card numbers', async () => {
    const text = [
      'The quick brown fox jumps over the lazy dog; invoice 2024-03-15 total 1234.56 EUR, order 123456789',
      'Forgot your password? Reset it from the login page.',
      'Tracking 4111 1111 1111 1112 is not a card (fails Luhn)',
      'Basic plan includes 5 seats; the token bucket refills every second',
      'Mail bob@example.com or call +49 30 1234567',
    ].join('\n');
    const out = await redactText(text);
    assert.equal(out.text, text);
    assert.deepEqual(out.findings, []);
  });

  it('finds emails, phone numbers and labelled names only when PII is switched on', async () => {
    const line = 'Mail bob@example.com call +49 30 1234567 Name: Alice Smith';
    assert.equal(await redacted(line), line);
    const out = await redactText(line, { pii: true });
    assert.equal(out.text, 'Mail [redacted] call [redacted] Name: [redacted]');
    assert.deepEqual(
      out.findings.map((f) => f.kind),
      ['email', 'phone', 'name'],
    );
  });

  it('reports kinds and where each value was, never the value', async () => {
    const out = await redactText('Password: hunter2 and card 4111111111111111');
    assert.deepEqual(
      out.findings.map((f) => [f.kind, out.text.length > 0 && 'Password: hunter2 and card 4111111111111111'.slice(f.start, f.end)]),
      [
        ['password', 'hunter2'],
        ['card', '4111111111111111'],
      ],
    );
    assert.ok(!JSON.stringify(out.findings).includes('hunter2'));
  });

  it('a failing detector fails the whole text, naming the detector and the reason', async () => {
    const broken = {
      name: 'broken-rule',
      detect: () => {
        throw new Error('regex blew up');
      },
    };
    await assert.rejects(redactText('Password: hunter2', { pii: false, detectors: [broken] }), (error: Error) => {
      assert.ok(error instanceof RedactionError);
      assert.match(error.message, /broken-rule: regex blew up/);
      return true;
    });
  });
});

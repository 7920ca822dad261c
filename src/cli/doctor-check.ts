export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  /** What was found and, for warn/fail, what to do about it. */
  message: string;
}

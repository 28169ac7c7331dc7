/** A problem a config rule found: where (the path in the config) and what. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
}

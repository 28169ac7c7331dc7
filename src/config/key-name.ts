/**
 * Whether a key read from the file is one a config would have (`providers`, `matchLabels`,
 * `app.kubernetes.io/name`), and so may be quoted back in a message. A file that is not YAML at all — a password
 * file a config path was pointed at, say — still parses, a line such as `root:$6$…:19000:0:99999:7:::` becoming
 * a key; such a key is never quoted, nor any other text that is not a key name: a message gives its position.
 * @example isKeyName('providers') // true;  isKeyName('root:$6$salt$hash:19000::') // false
 */
export function isKeyName(key: string): boolean {
  return /^[\w.\/-]{1,100}$/.test(key);
}

/** How a message names a key: quoted when it is a key name, else only said to be there. */
export function shownKey(key: string): string {
  return isKeyName(key) ? JSON.stringify(key) : '(not quoted: not a key name)';
}

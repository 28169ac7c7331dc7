/**
 * Waits for something another process or the event loop does (a request reaching a server, a response
 * being handled), checking often and giving up after a bound (generous: a loaded CI machine is slow, a passing
 * test never waits for it). Not a clock substitute: time-driven behaviour
 * uses the manual clock; this only waits for I/O to land.
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(2);
  }
}

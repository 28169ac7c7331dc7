/**
 * A preload (`bun --preload test/support/trace-loads.ts …`) that writes `loaded <path>` on stderr for each module of
 * src/ the process loads, so a test can tell which parts of fluxgate a command brings in.
 */
import { plugin } from 'bun';

plugin({
  name: 'trace-src-loads',
  setup(build) {
    build.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      process.stderr.write(`loaded ${args.path}\n`);
      return { contents: await Bun.file(args.path).text(), loader: 'ts' };
    });
  },
});

/** npm run bench: figures for the parts a small sign board and a city-sized fleet depend on. */
import { benchAnnouncements } from './announcementBench';
import { benchCodec } from './codecBench';
import { benchConnect } from './connectBench';
import { benchGtfs } from './gtfsBench';
import { benchImport } from './importBench';
import { benchPanels } from './panelBench';
import { benchRealtime } from './realtimeBench';
import { benchRender } from './renderBench';
import { benchSignStartup } from './signStartupBench';
import { benchStore } from './storeBench';
import { benchUpdates } from './updateBench';

console.log(`stopsign benchmarks — node ${process.version}, ${process.arch}`);

/** One section that breaks is reported and fails the run, without hiding the sections after it. */
async function section(name: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    console.error(`\n## ${name}: FAILED — ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  }
}

await section('render', benchRender);
await section('panels', benchPanels);
await section('codec', benchCodec);
await section('GTFS', benchGtfs);
await section('import', benchImport);
await section('realtime', benchRealtime);
await section('sign start-up', benchSignStartup);
await section('store', benchStore);
await section('announcements', benchAnnouncements);
await section('updates', benchUpdates);
await section('connect', benchConnect);

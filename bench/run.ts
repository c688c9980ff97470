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

console.log(`stopsign benchmarks — node ${process.version}, ${process.arch}`);
benchRender();
await benchPanels();
benchCodec();
await benchGtfs();
benchImport();
await benchRealtime();
await benchSignStartup();
await benchStore();
await benchAnnouncements();
await benchConnect();

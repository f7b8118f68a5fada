// A course process for machine-view.test.ts: opens a machine's view, prints its holder's pid,
// and waits to be killed.
import { openMachineView } from '../../src/runtime/processes.ts';

const view = await openMachineView({ keep: [], blank: [], private: [] });
if (!view) throw new Error('no machine view here');
console.log(/--target=(\d+)/.exec(view.enter().join(' '))?.[1]);
setInterval(() => {}, 60_000);

// The one module that starts child processes: everything else reaches them through this entry.
// The rules live in one place (processes/): every worker is launched the same way (launch.ts),
// given its app from a spare or freshly (node-workers.ts, spares.ts); the Flask track's Python
// host (python.ts), the database server's keeper (keeper.ts) and `serve --host cluster`'s
// primary (cluster.ts) are started beside them, each watching its IPC channel or stdin so that
// nothing outlives the course.

/** The course package's root folder (from src/, dist/ or any build). */
export { packageRoot } from './package-root.ts';
export { splitLines } from './processes/shared.ts';
export { workerMainFile } from './processes/launch.ts';
export { AppStartError, spawnWorker, type ExitInfo, type SpawnWorkerOptions, type WorkerProcess } from './processes/node-workers.ts';
export { holdRefill, prewarm, reserveSpares, sparePids, stopSpares, type SpareReserve } from './processes/spares.ts';
export { probePython, spawnPythonHost, type PythonHostOptions, type PythonHostProcess } from './processes/python.ts';
export { databaseKeeperFile, spawnDatabaseKeeper, type DatabaseKeeper } from './processes/keeper.ts';
export { openMachineView, probeMachineViews, unavailableReason as machineViewUnavailable, type MachineView, type MachineDiskPlan } from './processes/machine-view.ts';
export { clusterPrimaryFile, spawnClusterPrimary, type ClusterPrimary, type ClusterPrimaryOptions } from './processes/cluster.ts';

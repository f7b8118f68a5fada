// Starts the course's database server, makes one run's database, prints
// {"keeperPid", "serverPid", "dataDir", "url"} on one line, then waits to be killed (or, given
// "exit", ends on its own). Used to prove that the server never outlives the course.
import { databaseServer } from '../../src/runtime/postgres.ts';

const database = await databaseServer.createDatabase({ name: 'exit-paths', sql: 'CREATE TABLE t (x int)' });
const status = await databaseServer.status();
process.stdout.write(`${JSON.stringify({ ...status, url: database.url })}\n`);
if (process.argv[2] !== 'exit') setInterval(() => {}, 1 << 30);

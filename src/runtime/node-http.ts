// node:http for the course's own modules, loaded with require(): an ES import of node:http makes
// Node build the module's ES face, which reads every export, and reading three of them loads the
// fetch library (undici), 20-30 ms of every start that the course never uses. Types come from
// `import type * as Http from 'node:http'`.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

export const http = createRequire(import.meta.url)('node:http') as typeof Http;

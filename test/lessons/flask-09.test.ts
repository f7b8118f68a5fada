import { flaskSuite } from '../helpers/flask-suite.ts';

await flaskSuite(9);

import { lessonSuite } from '../helpers/lesson-suite.ts';

lessonSuite(2);

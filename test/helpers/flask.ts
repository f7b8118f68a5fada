// Whether the Flask track's tests can run here. Without a Python that imports Flask they are
// skipped, and say so; under CI=true they must not be skipped: the tests fail instead.
import { findPython, postgresDriverMissing, type PythonInfo } from '../../src/runtime/python/find.ts';

export interface FlaskAvailability {
  readonly python?: PythonInfo;
  /** Why the tests are skipped (undefined when they run). */
  readonly skip?: string;
}

/** `needs.database`: the tests run an app given a PostgreSQL database, so the Python needs a client for it. */
export async function flaskAvailability(needs: { database?: boolean } = {}): Promise<FlaskAvailability> {
  try {
    const python = await findPython();
    if (needs.database && !python.postgres) throw new Error(postgresDriverMissing(python));
    return { python };
  } catch (error) {
    const reason = `Flask track tests skipped: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`CI=true, so the Flask track tests may not be skipped. ${reason}`);
    process.stderr.write(`\n${reason}\n\n`);
    return { skip: reason };
  }
}

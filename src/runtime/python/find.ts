// Finding a Python that can run the Flask track: `--python` (which sets PYTHON) or the PYTHON
// environment variable, then `python3` on PATH, then /usr/bin/python3. The first candidate
// that runs decides: it must be Python 3.11+ with Flask 2.2+ importable. The answer names the
// interpreter's real executable, so later starts skip a shim (pyenv's costs tens of ms each).
import { probePython } from '../processes.ts';

export const MIN_PYTHON = [3, 11] as const;
export const MIN_FLASK = [2, 2] as const;

export interface PythonInfo {
  /** What was asked for (a name on PATH or a path). */
  readonly command: string;
  /** sys.executable: the interpreter itself. */
  readonly executable: string;
  readonly version: string;
  readonly flask: string;
  /** The PostgreSQL client it can import, with its version ("psycopg 3.1.7"), if any: the lessons with a shared database need one. */
  readonly postgres?: string;
}

/** No usable Python or Flask: the message says what to install. Exit code 2. */
export class PythonMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PythonMissingError';
  }
}

const PROBE = [
  'import importlib.metadata as m, importlib.util, json, sys',
  'info = {"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "flask": None}',
  'try:',
  '    import flask',
  '    info["flask"] = m.version("flask")',
  'except Exception as e:',
  '    info["error"] = "%s: %s" % (type(e).__name__, e)',
  'for name, dists in (("psycopg", ("psycopg",)), ("psycopg2", ("psycopg2", "psycopg2-binary"))):',
  '    if importlib.util.find_spec(name) is None:',
  '        continue',
  '    version = "?"',
  '    for dist in dists:',
  '        try:',
  '            version = m.version(dist)',
  '            break',
  '        except Exception:',
  '            pass',
  '    info["postgres"] = "%s %s" % (name, version)',
  '    break',
  'print(json.dumps(info))',
].join('\n');

export const INSTALL_HINT =
  'Install Flask for it: `python3 -m pip install flask` (in a virtual environment if your system asks), or on Debian and Ubuntu `sudo apt-get install python3-flask`. Point the course at another interpreter with --python PATH or PYTHON=PATH.';

/** The interpreters to try, in order. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.PYTHON?.trim();
  return chosen ? [chosen] : ['python3', '/usr/bin/python3'];
}

function atLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i]!;
  }
  return true;
}

const found = new Map<string, Promise<PythonInfo>>();

/** The Python the Flask track uses; rejects with PythonMissingError. Cached per PYTHON value. */
export function findPython(env: NodeJS.ProcessEnv = process.env): Promise<PythonInfo> {
  const key = env.PYTHON ?? '';
  let answer = found.get(key);
  if (!answer) {
    answer = search(pythonCandidates(env));
    found.set(key, answer);
    answer.catch(() => found.delete(key));
  }
  return answer;
}

async function search(candidates: readonly string[]): Promise<PythonInfo> {
  const seen: string[] = [];
  for (const command of candidates) {
    const result = await probePython(command, ['-c', PROBE]);
    if (result?.timedOut) {
      seen.push(`${command} did not answer within a minute`);
      continue;
    }
    if (!result || result.code !== 0) {
      seen.push(`${command}: not found or does not run`);
      continue;
    }
    let info: { executable: string; version: string; flask: string | null; postgres?: string; error?: string };
    try {
      info = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as typeof info;
    } catch {
      seen.push(`${command}: not a Python interpreter`);
      continue;
    }
    if (!atLeast(info.version, MIN_PYTHON)) {
      seen.push(`${command} is Python ${info.version}; the Flask track needs ${MIN_PYTHON.join('.')} or newer`);
      continue;
    }
    if (!info.flask) {
      seen.push(`${command} (Python ${info.version}) cannot import flask`);
      continue;
    }
    if (!atLeast(info.flask, MIN_FLASK)) {
      seen.push(`${command} has Flask ${info.flask}; the Flask track needs ${MIN_FLASK.join('.')} or newer`);
      continue;
    }
    return { command, executable: info.executable || command, version: info.version, flask: info.flask, ...(info.postgres ? { postgres: info.postgres } : {}) };
  }
  throw new PythonMissingError(`The Flask track needs Python ${MIN_PYTHON.join('.')}+ with Flask ${MIN_FLASK.join('.')}+, and none was found (${seen.join('; ')}). ${INSTALL_HINT}`);
}

export const POSTGRES_INSTALL_HINT =
  'Install a PostgreSQL client for it: `python3 -m pip install "psycopg[binary]"` (in the virtual environment you use), or on Debian and Ubuntu `sudo apt-get install python3-psycopg2` for /usr/bin/python3. Point the course at another interpreter with --python PATH or PYTHON=PATH.';

/** The message for a lesson with a shared PostgreSQL database when `python` has no client for it. */
export function postgresDriverMissing(python: PythonInfo): string {
  return `This lesson's app talks to a PostgreSQL database, and ${python.command} (Python ${python.version}) can import neither psycopg nor psycopg2. ${POSTGRES_INSTALL_HINT}`;
}

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { editDistance } from '../kernel/edit-distance.ts';

/** An env file holds a few dozen settings: anything larger is not one (or is /dev/zero). */
export const MAX_ENV_FILE_BYTES = 256 * 1024;

export interface EnvEntry {
  value: string;
  /** 1-based line the entry starts on. */
  line: number;
}

export interface EnvFileProblem {
  line: number;
  message: string;
}

export class EnvFileError extends AgentError {
  constructor(path: string, detail: string, code = 'env_file_unreadable') {
    super(`Cannot read env file ${path}: ${detail}`, ExitCode.NotConfigured, code);
  }
}

/**
 * Reads an env file's bytes: regular files only, opened without blocking (a FIFO would wait for a writer forever),
 * and at most MAX_ENV_FILE_BYTES of them.
 */
function readBounded(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new EnvFileError(path, (error as Error).message);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new EnvFileError(
        path,
        'it is not a regular file (a directory, FIFO or device). Point --agent-env / KTRDR_AGENT_ENV_FILE at a plain text file.',
        'env_file_invalid',
      );
    }
    if (stat.size > MAX_ENV_FILE_BYTES) {
      throw new EnvFileError(path, `it is ${stat.size} bytes; an env file may hold at most ${MAX_ENV_FILE_BYTES} bytes.`, 'env_file_invalid');
    }
    const buffer = Buffer.alloc(MAX_ENV_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_ENV_FILE_BYTES) {
        throw new EnvFileError(path, `it holds more than ${MAX_ENV_FILE_BYTES} bytes.`, 'env_file_invalid');
      }
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\([nrt"\\$])/g, (_match, char: string) => ({ n: '\n', r: '\r', t: '\t' })[char as 'n'] ?? char);
}

/** Where a quoted value ends; inside double quotes a backslash escapes the next character. */
function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i += 1) {
    if (quote === '"' && body[i] === '\\') i += 1;
    else if (body[i] === quote) return i;
  }
  return -1;
}

/**
 * The dotenv grammar Node's `--env-file` reads (KEY=value, optional `export `, `#` comments, single, double and
 * backtick quotes, quoted values over several lines), with the line of every entry and of every malformed line.
 * A UTF-8 byte-order mark and CRLF line ends (files written on Windows) are accepted.
 */
export function parseEnvText(text: string): { entries: Map<string, EnvEntry>; problems: EnvFileProblem[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries = new Map<string, EnvEntry>();
  const problems: EnvFileProblem[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals < 0) {
      problems.push({ line: lineNumber, message: `"${line.slice(0, 40)}" is not KEY=value` });
      continue;
    }
    const key = line
      .slice(0, equals)
      .trim()
      .replace(/^export\s+/, '');
    if (!keyPattern.test(key)) {
      problems.push({ line: lineNumber, message: `"${key.slice(0, 40)}" is not a variable name (letters, digits and _, not starting with a digit)` });
      continue;
    }
    let rest = line.slice(equals + 1).trimStart();
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value may run over several lines, up to its closing quote.
      let body = rest.slice(1);
      let end = closingQuote(body, quote);
      let last = index;
      while (end < 0 && last + 1 < lines.length) {
        last += 1;
        body += `\n${lines[last]!}`;
        end = closingQuote(body, quote);
      }
      if (end < 0) {
        problems.push({ line: lineNumber, message: `the value of ${key} opens a ${quote} quote that is never closed` });
        break;
      }
      const trailing = body.slice(end + 1).trim();
      if (trailing !== '' && !trailing.startsWith('#')) {
        problems.push({ line: last + 1, message: `unexpected text after the quoted value of ${key}: "${trailing.slice(0, 40)}"` });
        index = last;
        continue;
      }
      value = quote === '"' ? unescapeDoubleQuoted(body.slice(0, end)) : body.slice(0, end);
      index = last;
    } else {
      // Unquoted: a # after whitespace starts a comment.
      const comment = rest.search(/\s#/);
      if (comment >= 0) rest = rest.slice(0, comment);
      value = rest.trim();
    }
    // Like Node's parser, a later line names the value.
    entries.set(key, { value, line: lineNumber });
  }
  return { entries, problems };
}

/** Reads and parses one env file; malformed lines are an error naming each with its file and line. */
export function readEnvFile(path: string): Map<string, EnvEntry> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readBounded(path));
  } catch (error) {
    if (error instanceof EnvFileError) throw error;
    throw new EnvFileError(path, 'it is not UTF-8 text.', 'env_file_invalid');
  }
  const { entries, problems } = parseEnvText(text);
  if (problems.length > 0) {
    throw new EnvFileError(
      path,
      `${problems.length} malformed line${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${path}:${p.line}: ${p.message}`).join('\n')}\n` +
        'Each line is KEY=value, a # comment, or blank.',
      'env_file_invalid',
    );
  }
  return entries;
}

/** The known name closest to a misspelt one, if any is close (a typo, not a different word). */
export function closestName(name: string, known: readonly string[]): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 5)) ? best.name : null;
}

import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { checkStrategyName } from './schema.ts';
import { isRecord } from '../kernel/records.ts';
import { DEFAULT_STRATEGY_YAML_LIMITS, parseStrategyYaml, stringifyStrategy, type StrategyYamlLimits, type YamlParseResult } from './yaml.ts';

export type StrategyStoreErrorCode = 'invalid_name' | 'outside_dir' | 'exists' | 'io';

export class StrategyStoreError extends Error {
  readonly code: StrategyStoreErrorCode;

  constructor(code: StrategyStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StrategyStoreError';
    this.code = code;
  }
}

export interface SaveStrategyOptions {
  /**
   * What to do when a file with this name already holds exactly the same YAML: succeed without writing (default),
   * or refuse with `exists` when false. Different content is always refused.
   */
  readonly allowOverwriteSame?: boolean;
}

export interface SavedStrategy {
  readonly path: string;
  readonly yaml: string;
  /** SHA-256 of the YAML text, hex. */
  readonly sha256: string;
  /** False when an identical file was already there and nothing was written. */
  readonly written: boolean;
}

export interface StoredStrategy {
  readonly path: string;
  readonly yaml: string;
  readonly sha256: string;
  readonly parsed: YamlParseResult;
}

export interface StrategyStoreOptions {
  readonly yamlLimits?: StrategyYamlLimits;
}

/** A fully written, fsynced temporary file waiting to be published under its strategy name. */
export interface StagedStrategyFile {
  readonly tempPath: string;
  readonly targetPath: string;
}

/** `O_NOFOLLOW` where the platform has it (not on Windows), so opening a symlink fails instead of following it. */
const NO_FOLLOW = fsConstants.O_NOFOLLOW ?? 0;

/**
 * The strategies directory KTRDR reads. Writes `<name>.yaml` atomically and never replaces a different strategy:
 * the file is published with a hard link, which fails if the name is taken, so concurrent writers cannot overwrite
 * each other and readers never see a partial file. Refuses names that could leave the directory, symlinked targets,
 * and a directory that is a symlink or starts resolving somewhere else.
 */
export class StrategyStore {
  readonly directory: string;
  readonly #maxBytes: number;
  readonly #yamlLimits: StrategyYamlLimits;
  #pinnedRealDirectory: string | undefined;

  constructor(directory: string, options: StrategyStoreOptions = {}) {
    this.directory = path.resolve(directory);
    this.#yamlLimits = options.yamlLimits ?? {};
    this.#maxBytes = options.yamlLimits?.maxBytes ?? DEFAULT_STRATEGY_YAML_LIMITS.maxBytes;
  }

  async save(name: string, config: unknown, options: SaveStrategyOptions = {}): Promise<SavedStrategy> {
    assertStrategyName(name);
    if (!isRecord(config)) throw new TypeError('a strategy config must be a plain object');
    const declaredName = config['name'];
    if (declaredName !== undefined && declaredName !== name) {
      throw new StrategyStoreError(
        'invalid_name',
        `the strategy's name: is ${JSON.stringify(declaredName)} but it would be saved as '${name}'; KTRDR passes the YAML name as strategy_name, so make them equal`,
      );
    }
    const yaml = stringifyStrategy(config);
    const sha256 = sha256Hex(yaml);
    const size = Buffer.byteLength(yaml, 'utf8');
    if (size > this.#maxBytes) {
      throw new StrategyStoreError('io', `strategy '${name}' renders to ${size} bytes of YAML, over the ${this.#maxBytes}-byte limit`);
    }

    const directory = await this.#resolveDirectory();
    const targetPath = targetPathIn(directory, name);
    const allowSame = options.allowOverwriteSame ?? true;
    // A file larger than the new YAML cannot hold the same content, so it is not read.
    const settleExisting = async (existing: ExistingFile): Promise<SavedStrategy> => {
      const same = existing.kind === 'file' && existing.content.equals(Buffer.from(yaml, 'utf8'));
      if (same && allowSame) return { path: targetPath, yaml, sha256, written: false };
      throw await this.#existsError(directory, name, same);
    };

    const existing = await readRegularFile(targetPath, size);
    if (existing.kind !== 'missing') return settleExisting(existing);

    const staged = await stageStrategyFile(directory, name, yaml);
    const outcome = await publishStagedStrategyFile(staged);
    if (outcome === 'exists') {
      const winner = await readRegularFile(targetPath, size);
      if (winner.kind !== 'missing') return settleExisting(winner);
      throw new StrategyStoreError('io', `could not publish ${targetPath}: another writer created and removed it; try again`);
    }
    await fsyncDirectory(directory);
    return { path: targetPath, yaml, sha256, written: true };
  }

  /** Reads `<name>.yaml` and parses it with the hardened YAML parser; a parse failure is in `parsed`. */
  async read(name: string): Promise<StoredStrategy> {
    assertStrategyName(name);
    const directory = await this.#resolveDirectory();
    const targetPath = targetPathIn(directory, name);
    const existing = await readRegularFile(targetPath, this.#maxBytes);
    if (existing.kind === 'missing') throw new StrategyStoreError('io', `there is no strategy named '${name}' in ${directory}`);
    if (existing.kind === 'oversize') {
      throw new StrategyStoreError('io', `${targetPath} is ${existing.size} bytes, over the ${this.#maxBytes}-byte limit for strategy files`);
    }
    const yaml = existing.content.toString('utf8');
    return {
      path: targetPath,
      yaml,
      sha256: sha256Hex(yaml),
      parsed: parseStrategyYaml(existing.content, this.#yamlLimits),
    };
  }

  /** Whether anything exists under `<name>.yaml` (a strategy, or something else in the way). */
  async exists(name: string): Promise<boolean> {
    assertStrategyName(name);
    const directory = await this.#resolveDirectory();
    try {
      await fs.lstat(targetPathIn(directory, name));
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw ioError(`could not check ${targetPathIn(directory, name)}`, error);
    }
  }

  /** The file a strategy name maps to, inside the directory's real path. */
  async pathFor(name: string): Promise<string> {
    assertStrategyName(name);
    return targetPathIn(await this.#resolveDirectory(), name);
  }

  async #resolveDirectory(): Promise<string> {
    let entry;
    try {
      entry = await fs.lstat(this.directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new StrategyStoreError(
          'io',
          `the strategies directory ${this.directory} does not exist; create it or point the config at KTRDR's strategies folder`,
          { cause: error },
        );
      }
      throw ioError(`could not inspect the strategies directory ${this.directory}`, error);
    }
    if (entry.isSymbolicLink()) {
      const target = await fs.realpath(this.directory).catch(() => 'an unreachable path');
      throw new StrategyStoreError(
        'outside_dir',
        `the strategies directory ${this.directory} is a symbolic link to ${target}; configure the real directory instead, so writes cannot be redirected`,
      );
    }
    if (!entry.isDirectory()) throw new StrategyStoreError('io', `the strategies path ${this.directory} is not a directory`);
    let realDirectory: string;
    try {
      realDirectory = await fs.realpath(this.directory);
    } catch (error) {
      throw ioError(`could not resolve the strategies directory ${this.directory}`, error);
    }
    if (this.#pinnedRealDirectory === undefined) {
      this.#pinnedRealDirectory = realDirectory;
    } else if (this.#pinnedRealDirectory !== realDirectory) {
      throw new StrategyStoreError(
        'outside_dir',
        `the strategies directory ${this.directory} now resolves to ${realDirectory} instead of ${this.#pinnedRealDirectory}; refusing to write outside it`,
      );
    }
    return realDirectory;
  }

  async #existsError(directory: string, name: string, sameContent: boolean): Promise<StrategyStoreError> {
    if (sameContent) {
      return new StrategyStoreError('exists', `strategy '${name}' already exists in ${directory} with the same content`);
    }
    const suggestion = await suggestFreeName(directory, name);
    const advice = suggestion ? `save it under a new name such as '${suggestion}' (and set name: ${suggestion} in the YAML)` : 'save it under a new name';
    return new StrategyStoreError(
      'exists',
      `a different strategy named '${name}' already exists in ${directory}; strategies are never overwritten, so ${advice}`,
    );
  }
}

/**
 * Writes YAML to a new temporary file next to the target (created with O_EXCL, never through a symlink) and fsyncs
 * it. The name starts with '.' and ends in `.tmp`, so KTRDR never reads it as a strategy.
 */
export async function stageStrategyFile(directory: string, name: string, yaml: string): Promise<StagedStrategyFile> {
  assertStrategyName(name);
  const targetPath = targetPathIn(directory, name);
  const tempPath = path.join(directory, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await fs.open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | NO_FOLLOW, 0o644);
  } catch (error) {
    throw ioError(`could not create a temporary file in ${directory}`, error);
  }
  try {
    await handle.writeFile(yaml, 'utf8');
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(tempPath).catch(() => undefined);
    throw ioError(`could not write ${tempPath}`, error);
  }
  return { tempPath, targetPath };
}

/**
 * Publishes a staged file under its target name only if that name is free, and removes the temporary name.
 * A hard link creates the name atomically and fails when it exists; on filesystems without hard links it falls
 * back to rename after a check, which leaves a short window for a concurrent writer.
 */
export async function publishStagedStrategyFile(staged: StagedStrategyFile): Promise<'published' | 'exists'> {
  try {
    await fs.link(staged.tempPath, staged.targetPath);
    return 'published';
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return 'exists';
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw ioError(`could not publish ${staged.targetPath}`, error);
    }
    return await publishByRename(staged);
  } finally {
    await fs.unlink(staged.tempPath).catch(() => undefined);
  }
}

async function publishByRename(staged: StagedStrategyFile): Promise<'published' | 'exists'> {
  try {
    await fs.lstat(staged.targetPath);
    return 'exists';
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw ioError(`could not check ${staged.targetPath}`, error);
  }
  try {
    await fs.rename(staged.tempPath, staged.targetPath);
    return 'published';
  } catch (error) {
    throw ioError(`could not publish ${staged.targetPath}`, error);
  }
}

function assertStrategyName(name: string): void {
  const problem = checkStrategyName(name);
  if (problem) throw new StrategyStoreError('invalid_name', `invalid strategy name: ${problem}`);
}

/** `<directory>/<name>.yaml`, checked to stay directly inside the directory. */
function targetPathIn(directory: string, name: string): string {
  const targetPath = path.join(directory, `${name}.yaml`);
  if (path.dirname(targetPath) !== directory || path.basename(targetPath) !== `${name}.yaml`) {
    throw new StrategyStoreError('outside_dir', `strategy '${name}' would resolve outside ${directory}`);
  }
  return targetPath;
}

type ExistingFile = { readonly kind: 'missing' } | { readonly kind: 'oversize'; readonly size: number } | { readonly kind: 'file'; readonly content: Buffer };

/** Reads a file that must be a regular file reached without symlinks, unless it is larger than `limit` bytes. */
async function readRegularFile(filePath: string, limit: number): Promise<ExistingFile> {
  let entry;
  try {
    entry = await fs.lstat(filePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
    throw ioError(`could not inspect ${filePath}`, error);
  }
  if (entry.isSymbolicLink()) {
    const target = await fs.readlink(filePath).catch(() => 'an unreadable target');
    throw new StrategyStoreError('outside_dir', `${filePath} is a symbolic link (to ${target}); refusing to follow it. Remove the link or use another name`);
  }
  if (!entry.isFile()) throw new StrategyStoreError('io', `${filePath} exists but is not a regular file; remove it or use another name`);

  let handle;
  try {
    handle = await fs.open(filePath, fsConstants.O_RDONLY | NO_FOLLOW);
  } catch (error) {
    if (errorCode(error) === 'ELOOP') {
      throw new StrategyStoreError('outside_dir', `${filePath} became a symbolic link while being read; refusing to follow it`, { cause: error });
    }
    if (errorCode(error) === 'ENOENT') return { kind: 'missing' };
    throw ioError(`could not open ${filePath}`, error);
  }
  try {
    const { size } = await handle.stat();
    if (size > limit) return { kind: 'oversize', size };
    return { kind: 'file', content: await handle.readFile() };
  } catch (error) {
    throw ioError(`could not read ${filePath}`, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Makes the new directory entry durable; some platforms cannot fsync a directory, which is harmless there. */
async function fsyncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(directory, fsConstants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF' && code !== 'EACCES') {
      throw ioError(`could not sync the strategies directory ${directory}`, error);
    }
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The first of `<base>_v2`, `<base>_v3`, ... that is free, where `<base>` drops an existing `_vN` suffix. */
async function suggestFreeName(directory: string, name: string): Promise<string | undefined> {
  const base = name.replace(/_v\d+$/, '');
  for (let version = 2; version < 100; version += 1) {
    const suffix = `_v${version}`;
    const candidate = `${base.slice(0, 100 - suffix.length)}${suffix}`;
    if (candidate === name || checkStrategyName(candidate) !== undefined) continue;
    try {
      await fs.lstat(path.join(directory, `${candidate}.yaml`));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return candidate;
      return undefined;
    }
  }
  return undefined;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function ioError(what: string, cause: unknown): StrategyStoreError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StrategyStoreError('io', `${what}: ${detail}`, { cause });
}

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isService, type PipelineStage, type Service } from '@prodprobe/layers';
import { CliError } from './output.js';

/** A team's service, loaded from the module `--pipeline` names. */
export interface ServiceModule {
  service: Service;
  /** Absolute path of the module. */
  file: string;
  /** The flags that load it again (`--pipeline <file>`), for the next commands a report prints. */
  flags: string[];
  /** For the report: which service, from which file. */
  description: string;
}

const typescript = /\.(c|m)?tsx?$/;

/**
 * Imports a module (JavaScript, or TypeScript through tsx) and returns the module namespace.
 * `flag` names the option in errors.
 */
export async function importModule(file: string, flag: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new CliError(`${flag} ${file}: no such file`);
  const url = pathToFileURL(file).href;
  try {
    if (typescript.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new CliError(`${flag} ${file}: cannot import it: ${message}`, undefined, { cause });
  }
}

/**
 * A module path as given: a file relative to `cwd`, or a package specifier (`@team/service/pipeline`)
 * resolved from `cwd` as the service's own code would resolve it.
 */
export function resolveModule(spec: string, cwd: string, flag: string): string {
  const file = resolve(cwd, spec);
  if (existsSync(file) || spec.startsWith('.') || isAbsolute(spec)) return file;
  try {
    return createRequire(join(cwd, 'package.json')).resolve(spec);
  } catch {
    throw new CliError(`${flag} ${spec}: no such file, and no package of that name resolves from ${cwd}`);
  }
}

/**
 * Loads the service a `--pipeline` module declares with `defineService` of `@prodprobe/layers`:
 * its default export, or an export named `service`, or its only export that is a service.
 */
export async function loadServiceModule(
  path: string,
  cwd: string,
  flag = '--pipeline',
): Promise<ServiceModule> {
  const file = resolveModule(path, cwd, flag);
  const mod = await importModule(file, flag);
  const candidates = [mod.default, mod.service].filter(isService);
  const named = Object.values(mod).filter(isService);
  const service = candidates[0] ?? (named.length === 1 ? named[0] : undefined);
  if (!service) {
    const exported = Object.keys(mod).join(', ') || 'nothing';
    throw new CliError(
      `${flag} ${path}: expected a module whose default export is defineService({ name, load }) of @prodprobe/layers (it exports ${exported})`,
    );
  }
  return {
    service,
    file,
    flags: ['--pipeline', file],
    description: `service "${service.name}" from ${file}`,
  };
}

/** The first inference stage that says how to inspect its ONNX model, with its position. */
export function onnxStage(
  stages: readonly PipelineStage[],
): { stage: PipelineStage; index: number } | undefined {
  const index = stages.findIndex((s) => s.kind === 'inference' && s.onnx !== undefined);
  return index < 0 ? undefined : { stage: stages[index]!, index };
}

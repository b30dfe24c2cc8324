/**
 * `npm run query -- <dir or file> [--k 5] [--index lsh|hnsw|exact] [--min-score -1..1] [--similar] [--json|--csv]`:
 * searches the catalog in DATA_DIR with each image, object by object, and prints the top distinct
 * products with their cosine and the seed's 0–100 score (100 × cosine). Same code path as
 * POST /v1/search. Exit code 1 when no image could be searched, 2 for bad usage.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { invalidParameter } from '../core/errors.js';
import { checkOneOf, parseInteger, parseNumber } from '../config/checks.js';
import { loadConfig } from '../config/load.js';
import { INDEX_KINDS } from '../config/schema.js';
import type { SearchAnswer, SearchQuery } from '../pipeline/catalog-search.js';
import { EXIT_NOTHING_DONE, describeError, exitWithError, listImages, openCatalog, startProgress, writeStdout } from './common.js';

const USAGE = 'usage: npm run query -- <dir or file> [--k 5] [--index lsh|hnsw|exact] [--min-score -1..1] [--similar] [--json|--csv]';

/** The seed's score: 100 × cosine similarity, i.e. 100 × (1 − cosine distance). */
function seedScore(cosine: number): number {
  return 100 * cosine;
}

type Format = 'text' | 'json' | 'csv';

interface QueryOutcome {
  file: string;
  answer?: SearchAnswer;
  error?: string;
}

async function main(): Promise<void> {
  let target: string;
  let format: Format;
  let flags: { k?: string; index?: string; 'min-score'?: string; similar?: boolean };
  try {
    const parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        k: { type: 'string' },
        index: { type: 'string' },
        'min-score': { type: 'string' },
        similar: { type: 'boolean' },
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
      },
    });
    if (parsed.positionals.length !== 1) throw invalidParameter('arguments', `one folder or image (${USAGE})`, parsed.positionals.join(' '));
    if (parsed.values.json && parsed.values.csv) throw invalidParameter('--json/--csv', 'at most one of them', '--json --csv');
    target = resolve(parsed.positionals[0] as string);
    if (!existsSync(target)) throw invalidParameter('<dir or file>', 'an existing folder or image file', parsed.positionals[0]);
    format = parsed.values.json ? 'json' : parsed.values.csv ? 'csv' : 'text';
    flags = parsed.values;
  } catch (error) {
    exitWithError(error);
  }

  let opened;
  let query: SearchQuery;
  try {
    const config = loadConfig();
    const search = config.search;
    query = {
      k: flags.k === undefined ? search.defaultK : parseInteger('--k', flags.k, 1, search.maxK),
      index: flags.index === undefined ? search.defaultIndex : checkOneOf('--index', flags.index, INDEX_KINDS),
      minScore: flags['min-score'] === undefined ? search.minScore : parseNumber('--min-score', flags['min-score'], -1, 1),
      compare: false,
      similar: flags.similar === true,
    };
    opened = await openCatalog(config);
  } catch (error) {
    exitWithError(error);
  }

  const files = listImages(target);
  const root = files.length === 1 && files[0] === target ? dirname(target) : target;
  const progress = startProgress(files.length, 'query');
  const outcomes: QueryOutcome[] = [];
  for (const file of files) {
    const name = relative(root, file) || basename(file);
    try {
      outcomes.push({ file: name, answer: await opened.catalogSearch.search(await readFile(file), query) });
    } catch (error) {
      outcomes.push({ file: name, error: describeError(error) });
    }
    progress.tick(name);
  }
  progress.stop();
  await opened.close();

  await writeStdout(format === 'json' ? toJson(outcomes) : format === 'csv' ? toCsv(outcomes) : toText(outcomes));
  const failed = outcomes.filter((outcome) => outcome.error);
  if (format !== 'text' && failed.length > 0) {
    process.stderr.write(`${failed.length} error(s):\n${failed.map((o) => `  ${o.file}: ${o.error}`).join('\n')}\n`);
  }
  process.exit(files.length > 0 && failed.length < files.length ? 0 : EXIT_NOTHING_DONE);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function bboxText(bbox: readonly number[]): string {
  return bbox.map((v) => Math.round(v)).join(',');
}

function toText(outcomes: QueryOutcome[]): string {
  const lines: string[] = [];
  for (const { file, answer, error } of outcomes) {
    if (!answer) {
      lines.push(`${file}: error ${error}`);
      continue;
    }
    lines.push(`${file} (${answer.width}×${answer.height}, ${answer.objects.length} objects, ${answer.timings.totalMs.toFixed(0)} ms)`);
    const found = answer.answer.map((p) => `${p.productId}${p.confidence === null ? '' : ` (${(100 * p.confidence).toFixed(0)}%)`} at [${bboxText(p.bbox)}]`);
    lines.push(`  answer: ${found.length > 0 ? found.join(', ') : 'no match in the catalog'}`);
    for (const p of answer.similar ?? []) lines.push(`  similar, not a match: ${p.productId} (${(100 * (p.confidence ?? 0)).toFixed(0)}%)`);
    for (const object of answer.objects) {
      const via = object.fallback ? `${object.index}→hnsw fallback` : object.index;
      lines.push(`  ${object.label} ${object.score.toFixed(2)} [${bboxText(object.bbox)}] (${via})`);
      object.matches.forEach((match, rank) => {
        const verdict = match.confidence === null ? '' : `  ${match.accepted ? 'match' : 'similar'} ${(100 * match.confidence).toFixed(0)}%`;
        lines.push(`    ${String(rank + 1).padStart(2)}. ${match.productId.padEnd(32)} cosine ${match.score.toFixed(4)}  score ${seedScore(match.score).toFixed(1)}${verdict}`);
      });
      if (object.matches.length === 0) lines.push('    (no match)');
    }
  }
  return `${lines.join('\n')}\n`;
}

function toJson(outcomes: QueryOutcome[]): string {
  const rows = outcomes.map(({ file, answer, error }) =>
    answer
      ? {
          file,
          width: answer.width,
          height: answer.height,
          objects: answer.objects.map((object) => ({
            label: object.label,
            score: round(object.score, 4),
            bbox: object.bbox,
            index: object.index,
            fallback: object.fallback,
            matches: object.matches.map((match) => ({
              productId: match.productId,
              cosine: round(match.score, 6),
              score: round(seedScore(match.score), 2),
              bbox: match.bbox,
              imageId: match.imageId,
              metadata: match.metadata,
              accepted: match.accepted,
              confidence: match.confidence === null ? null : round(match.confidence, 4),
            })),
          })),
          answer: answer.answer.map((p) => ({ productId: p.productId, confidence: p.confidence === null ? null : round(p.confidence, 4), bbox: p.bbox, via: p.via })),
          ...(answer.similar ? { similar: answer.similar.map((p) => ({ productId: p.productId, confidence: p.confidence === null ? null : round(p.confidence, 4) })) } : {}),
          judged: answer.judged,
          timings: answer.timings,
        }
      : { file, error },
  );
  return `${JSON.stringify(rows, null, 2)}\n`;
}

function csvField(value: string | number | boolean): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(outcomes: QueryOutcome[]): string {
  const lines = ['file,object,label,object_score,bbox,index,fallback,rank,product_id,cosine,score,accepted,confidence'];
  for (const { file, answer } of outcomes) {
    answer?.objects.forEach((object, objectIndex) => {
      object.matches.forEach((match, rank) => {
        lines.push(
          [file, objectIndex, object.label, object.score.toFixed(4), bboxText(object.bbox), object.index, object.fallback, rank + 1, match.productId, match.score.toFixed(6), seedScore(match.score).toFixed(2), match.accepted, match.confidence === null ? '' : match.confidence.toFixed(4)]
            .map(csvField)
            .join(','),
        );
      });
    });
  }
  return `${lines.join('\n')}\n`;
}

await main();

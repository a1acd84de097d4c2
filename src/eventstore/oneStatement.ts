// Several independent writes as one SQL statement (data-modifying CTEs): an append writes its events, its stream heads
// and its inline projections in one statement instead of one each. Only when it is safe: every part must be a plain
// INSERT, UPDATE or DELETE with numbered parameters, and no two parts may write the same table — the parts of one
// statement all see the database as it was before it, so a second write to a table would not see the first.
// The first part runs first (the statement's own query reads its rows; PostgreSQL runs the others after that): when
// it is the events' insert, a lost race fails there, on the events' unique index, before any projection's own unique
// index could report the same race as something else.
import type { Statement } from './types.js';

const targetPattern = /^\s*(?:insert\s+into|update|delete\s+from)\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)[\s(]/i;

/** What one part's text allows: the table it writes and how many parameters it numbers, or null if it cannot be a part. */
interface PartShape {
  table: string;
  parameters: number;
}

/** Statement texts are few (the projectors' and the store's own), their shapes worked out once each. */
const shapes = new Map<string, PartShape | null>();
/** Per text, its renumbered forms by offset (two levels: a key joining offset and text cost a copy of the text). */
const renumbered = new Map<string, Map<number, string>>();

function shapeOf(text: string): PartShape | null {
  let shape = shapes.get(text);
  if (shape !== undefined) return shape;
  const table = targetPattern.exec(text)?.[1]?.toLowerCase();
  const numbers = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  const highest = Math.max(0, ...numbers);
  // A RETURNING would be discarded; `$` must only ever start a parameter number (for the renumbering); and every
  // number from 1 to the highest must be used, or an unused one would leave its type unknown.
  shape = table && !/\breturning\b/i.test(text) && !/\$(?!\d)/.test(text) && new Set(numbers).size === highest ? { table, parameters: highest } : null;
  if (shapes.size >= 2000) shapes.clear();
  shapes.set(text, shape);
  return shape;
}

function renumber(text: string, offset: number): string {
  if (offset === 0) return text;
  let byOffset = renumbered.get(text);
  if (byOffset === undefined) {
    if (renumbered.size >= 2000) renumbered.clear();
    renumbered.set(text, (byOffset = new Map()));
  }
  let out = byOffset.get(offset);
  if (out === undefined) {
    out = text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    if (byOffset.size >= 64) byOffset.clear();
    byOffset.set(offset, out);
  }
  return out;
}

/**
 * The parts as one statement, or null when they cannot be one (run them one by one, in order). It answers one row:
 * `select` over the first part's rows (by default how many it wrote).
 */
export function asOneStatement(parts: readonly Statement[], select = 'count(*)'): Statement | null {
  if (parts.length === 0) return null;
  const tables = new Set<string>();
  const ctes: string[] = [];
  const params: unknown[] = [];
  for (const [index, part] of parts.entries()) {
    const shape = shapeOf(part.text);
    if (!shape || shape.parameters !== part.params.length || tables.has(shape.table)) return null;
    tables.add(shape.table);
    ctes.push(`w${index} as (${renumber(part.text, params.length)}${index === 0 ? ' returning 1' : ''})`);
    params.push(...part.params);
  }
  return { text: `with ${ctes.join(',\n')}\nselect ${select} from w0`, params };
}

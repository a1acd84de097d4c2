// Several independent writes as one SQL statement (data-modifying CTEs): an append writes its events, its stream heads
// and its inline projections in one statement instead of one each. Only when it is safe: every part must be a plain
// INSERT, UPDATE or DELETE with numbered parameters, and no two parts may write the same table — the parts of one
// statement all see the database as it was before it, so a second write to a table would not see the first.
// The first part runs first (the statement's own query reads its rows; PostgreSQL runs the others after that): when
// it is the events' insert, a lost race fails there, on the events' unique index, before any projection's own unique
// index could report the same race as something else.
import type { Statement } from './types.js';

const targetPattern = /^\s*(?:insert\s+into|update|delete\s+from)\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)[\s(]/i;

/** The parts as one statement, or null when they cannot be one (run them one by one, in order). */
export function asOneStatement(parts: readonly Statement[]): Statement | null {
  if (parts.length === 0) return null;
  const tables = new Set<string>();
  const ctes: string[] = [];
  const params: unknown[] = [];
  for (const [index, part] of parts.entries()) {
    const table = targetPattern.exec(part.text)?.[1]?.toLowerCase();
    if (!table || tables.has(table)) return null;
    tables.add(table);
    // A RETURNING would be discarded, and `$` must only ever start a parameter number for the renumbering below.
    if (/\breturning\b/i.test(part.text) || /\$(?!\d)/.test(part.text)) return null;
    const numbers = [...part.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    // Every parameter referenced, and no other: an unreferenced one would leave its type unknown.
    if (new Set(numbers).size !== part.params.length || Math.max(0, ...numbers) !== part.params.length) return null;
    const offset = params.length;
    const renumbered = part.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    ctes.push(`w${index} as (${renumbered}${index === 0 ? ' returning 1' : ''})`);
    params.push(...part.params);
  }
  return { text: `with ${ctes.join(',\n')}\nselect count(*) from w0`, params };
}

// The append's one statement (src/eventstore/oneStatement.ts): independent writes as data-modifying CTEs, and never
// when that would change what they do.
import { describe, expect, it } from 'vitest';
import { asOneStatement } from '../../src/eventstore/oneStatement.js';

const part = (text: string, ...params: unknown[]) => ({ text, params });

describe('asOneStatement', () => {
  it('joins writes to distinct tables, renumbering each part\'s parameters after the ones before it', () => {
    const one = asOneStatement([
      part('insert into events (a, b) select $1, $2', 1, 2),
      part('update proj.sessions set x = $2 where id = $1', 'id', 'x'),
      part('insert into proj.audit (p, q) values ($1, $1::text)', 'p'),
    ]);
    expect(one?.params).toEqual([1, 2, 'id', 'x', 'p']);
    expect(one?.text).toBe([
      'with w0 as (insert into events (a, b) select $1, $2 returning 1),',
      'w1 as (update proj.sessions set x = $4 where id = $3),',
      'w2 as (insert into proj.audit (p, q) values ($5, $5::text))',
      'select count(*) from w0',
    ].join('\n'));
  });

  it('refuses two writes to one table (the second would not see the first), RETURNING, other uses of $ and unused parameters', () => {
    expect(asOneStatement([part('insert into t (a) values ($1)', 1), part('update t set a = $1', 2)])).toBeNull();
    expect(asOneStatement([part('insert into proj.t (a) values ($1)', 1), part('delete from PROJ.T where a = $1', 2)])).toBeNull();
    expect(asOneStatement([part('insert into t (a) values ($1) returning a', 1)])).toBeNull();
    expect(asOneStatement([part(`insert into t (a) values ($$x$$)`)])).toBeNull();
    expect(asOneStatement([part('insert into t (a) values ($2)', 1, 2)])).toBeNull();
    expect(asOneStatement([part('insert into t (a) values ($1)', 1, 2)])).toBeNull();
    expect(asOneStatement([part('select 1')])).toBeNull();
  });
});

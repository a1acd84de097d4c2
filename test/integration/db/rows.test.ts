// Rows from PostgreSQL as the rest of the code reads them (src/db/index.ts builds them from values, one compiled shape per
// column list, instead of postgres.js's objects that V8 turns into dictionaries past 16 columns): every column's value
// and type, the last of two columns of one name, statements without rows, several statements, and names that are not
// identifiers, "__proto__" among them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

describe('rows read from PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('a row of 45 columns holds each value with its type, and every row of the statement the same keys in order', async () => {
    const columns = Array.from({ length: 45 }, (_, i) => `$1::int + ${i} as c${i}`).join(', ');
    const rows = await t.db.query(`select ${columns}, g::int8 as position, '{"k":[1]}'::jsonb as data, '{a,b}'::text[] as ids, null::text as nothing, timestamptz '2026-01-01T00:00:00Z' as at from generate_series(1, 3) as g`, [10]);
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0]!)).toEqual([...Array.from({ length: 45 }, (_, i) => `c${i}`), 'position', 'data', 'ids', 'nothing', 'at']);
    rows.forEach((row, i) => {
      expect(Object.keys(row)).toEqual(Object.keys(rows[0]!));
      expect(row.c0).toBe(10);
      expect(row.c44).toBe(54);
      expect(row.position).toBe(i + 1);
      expect(row.data).toEqual({ k: [1] });
      expect(row.ids).toEqual(['a', 'b']);
      expect(row.nothing).toBeNull();
      expect(row.at).toEqual(new Date('2026-01-01T00:00:00Z'));
    });
    // A second run of the prepared statement (its builder found by its columns) reads the same.
    expect(await t.db.query(`select ${columns}, g::int8 as position, '{"k":[1]}'::jsonb as data, '{a,b}'::text[] as ids, null::text as nothing, timestamptz '2026-01-01T00:00:00Z' as at from generate_series(1, 3) as g`, [10])).toEqual(rows);
  });

  it('two columns of one name: the row holds the last one', async () => {
    expect(await t.db.query(`select 1 as a, $1::text as b, 2 as a`, ['x'])).toEqual([{ a: 2, b: 'x' }]);
  });

  it('names that are not identifiers are plain keys, "__proto__" an own column and not the prototype', async () => {
    const [row] = await t.db.query(`select 1 as "__proto__", 2 as "a""b", 3 as "}; throw 1; ({", 4 as "\\", 5 as "constructor"`, []);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1);
    expect(row).toMatchObject({ 'a"b': 2, '}; throw 1; ({': 3, '\\': 4, constructor: 5 });
  });

  it('a statement without rows reads none; several statements read each one\'s rows', async () => {
    await t.db.query(`create table rows_test (x int)`);
    expect(await t.db.query(`insert into rows_test values ($1)`, [1])).toEqual([]);
    expect(await t.db.query(`select x from rows_test where x = $1`, [2])).toEqual([]);
    expect(await t.db.query(`select 1 as x; select 2 as y`)).toEqual([[{ x: 1 }], [{ y: 2 }]]);
    expect(await t.db.transaction((tx) => tx.query(`select x from rows_test`, []))).toEqual([{ x: 1 }]);
  });
});

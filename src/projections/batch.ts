// Set-based statements for projectBatch: a batch's events are folded per row in position order, then written in two
// statements per table — one UPDATE for rows that existed before the batch, one INSERT for rows the batch creates.
import { sql, type SqlStatement } from './projector.js';

export interface Column {
  name: string;
  /** The SQL type jsonb_to_recordset reads the value as. */
  type: string;
}

/**
 * The net change a batch makes to a row that existed before it: the columns it set (last value in position order
 * wins) and the values of order-free relative changes (counters added, items appended), folded by the projector.
 */
export interface RowPatch {
  key: string;
  set: Record<string, unknown>;
  relative: Record<string, unknown>;
}

/** Folds a batch: rows created in it are kept whole; changes to other rows accumulate as patches. */
export class BatchFold<Row extends Record<string, unknown>> {
  readonly created = new Map<string, Row>();
  readonly patches = new Map<string, RowPatch>();

  create(key: string, row: Row): void {
    // A second creation of one key fails live (primary key); the first one stands here.
    if (!this.created.has(key)) this.created.set(key, row);
  }

  /** Applies `change` to the row as it would be after every earlier event of the batch. */
  change(key: string, onCreated: (row: Row) => void, onPatch: (patch: RowPatch) => void): void {
    const row = this.created.get(key);
    if (row) {
      onCreated(row);
      return;
    }
    let patch = this.patches.get(key);
    if (!patch) {
      patch = { key, set: {}, relative: {} };
      this.patches.set(key, patch);
    }
    onPatch(patch);
  }

  /**
   * UPDATE first, INSERT second: an update of a key that the batch creates later hit no row live (the row did not
   * exist yet), and running the update before the insert keeps it so.
   */
  statements(table: string, key: Column, columns: readonly Column[], relative: { targets: readonly string[]; columns: readonly Column[]; assignments: readonly string[] }): SqlStatement[] {
    const statements: SqlStatement[] = [];
    if (this.patches.size > 0) {
      // Columns changed relatively (targets) get their own assignment; the others are set when the batch set them.
      const settable = columns.filter((c) => c.name !== key.name && !relative.targets.includes(c.name));
      const rows = [...this.patches.values()].map((p) => ({ [key.name]: p.key, set_cols: Object.keys(p.set), ...p.set, ...p.relative }));
      const assignments = [
        ...settable.map((c) => `${c.name} = case when '${c.name}' = any(r.set_cols) then r.${c.name} else t.${c.name} end`),
        ...relative.assignments,
      ];
      const recordColumns = [key, { name: 'set_cols', type: 'text[]' }, ...settable, ...relative.columns].map((c) => `${c.name} ${c.type}`).join(', ');
      statements.push(sql(
        `update ${table} t set ${assignments.join(', ')}
           from jsonb_to_recordset($1::text::jsonb) as r(${recordColumns})
          where t.${key.name} = r.${key.name}`,
        JSON.stringify(rows),
      ));
    }
    if (this.created.size > 0) {
      const names = columns.map((c) => c.name).join(', ');
      statements.push(sql(
        `insert into ${table} (${names})
         select ${names} from jsonb_to_recordset($1::text::jsonb) as r(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`,
        JSON.stringify([...this.created.values()]),
      ));
    }
    return statements;
  }
}

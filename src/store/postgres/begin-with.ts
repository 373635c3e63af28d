/**
 * A transaction's BEGIN sent in the same message as its first statement: one round trip
 * instead of two (docs/architecture.md, "PostgreSQL round trips"). node-postgres waits for
 * each query's ReadyForQuery before it sends the next, so the two must be one query.
 *
 * With parameters (extended protocol) the BEGIN goes as its own Parse/Bind/Execute ahead of
 * the statement's Bind/Execute and one Sync: the server runs them in order, answers with
 * one ReadyForQuery, and the statement keeps its prepared name (no parse and plan per run).
 * Only for a statement this connection has parsed already: a Parse that failed after the
 * BEGIN's ParseComplete would leave the name marked as prepared (pg marks the active query's
 * name on any ParseComplete). Without parameters (simple protocol) the texts are joined with
 * `;`. Either way the BEGIN's CommandComplete is dropped, so the caller sees the statement's
 * result alone; an error in either fails the query, and the transaction then needs the
 * ROLLBACK the driver sends on any failure.
 *
 * Relies on pg's Submittable interface as pg-cursor does (Query's prepare/handle* hooks and
 * the connection's parse/bind/execute writers), so pg upgrades need this file checked.
 */
import pg from 'pg';

interface Wire {
  parse(m: { text: string; name?: string; types?: unknown[] }): void;
  bind(m: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(m: { portal?: string; rows?: number }): void;
  query(text: string): void;
  parsedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
}

/** The parts of pg's Query this class builds on (not in @types/pg). */
interface QueryInternals {
  name?: string;
  text: string;
  requiresPreparation(): boolean;
  prepare(connection: Wire): void;
  handleCommandComplete(msg: unknown, connection: Wire): void;
}

const Base = pg.Query as unknown as new (config: pg.QueryConfig) => pg.Query & QueryInternals;

class BeginThenQuery extends Base {
  /** CommandCompletes still to drop: one per statement of `begin`. */
  private skip: number;

  constructor(
    private readonly begin: readonly string[],
    config: pg.QueryConfig,
  ) {
    super(config);
    this.skip = begin.length;
  }

  override handleCommandComplete(msg: unknown, connection: Wire): void {
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }

  override submit = (connection: pg.Connection): void => {
    const wire = connection as unknown as Wire;
    if (!this.requiresPreparation()) {
      wire.query([...this.begin, this.text].join('; '));
      return;
    }
    wire.stream.cork?.();
    try {
      for (const text of this.begin) {
        wire.parse({ text, name: '', types: [] });
        wire.bind({ portal: '', statement: '', values: [] });
        wire.execute({ portal: '', rows: 0 });
      }
      this.prepare(wire); // Bind, Describe, Execute, Sync of the statement itself
    } finally {
      wire.stream.uncork?.();
    }
  };
}

/** Whether `config` can go with a BEGIN in one message on `client` (see the file comment). */
export function canJoinBegin(client: pg.ClientBase, config: pg.QueryConfig): boolean {
  if (!config.values || config.values.length === 0) return true;
  const parsed = (client as unknown as { connection: Wire }).connection.parsedStatements;
  return config.name !== undefined && parsed[config.name] === config.text;
}

/** Runs `begin` (parameterless statements, e.g. ['BEGIN']) and then `config` in one round trip; the result is `config`'s. */
export function queryAfterBegin(client: pg.ClientBase, begin: readonly string[], config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const q = new BeginThenQuery(begin, config);
    (q as unknown as { callback: (err: Error | null, res: pg.QueryResult) => void }).callback = (err, res) => (err ? reject(err) : resolve(res));
    client.query(q as unknown as pg.QueryConfig);
  });
}

using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using SQLitePCLRaw = SQLitePCL.raw;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// Group commit for SQLite: the single-statement writes that requests run outside a transaction
/// (INSERT, UPDATE, DELETE) queue here, and one writer runs whatever has queued in one transaction
/// with one commit. SQLite has one write lock per database; without this, concurrent writers each
/// take it, append their pages to the WAL and commit, and the ones that find it taken sleep in
/// SQLite's busy handler (1, 2, 5, 10… ms) while the cores idle.
/// </summary>
/// <remarks>
/// Note: a caller's task completes only after the commit that holds its write, so an answered write is
/// as durable as before (WAL, synchronous=NORMAL: it survives a crash of the process). A statement that
/// fails (a constraint, a trigger's RAISE(ABORT)) is undone alone, as SQLite undoes a failed statement
/// inside a transaction; its caller gets the error and the other writes of the batch still commit.
/// When SQLite rolls back the whole transaction instead (a RAISE(ROLLBACK), a full disk, an I/O error),
/// every write of the batch run so far fails with that error, and the rest start a new transaction.
/// </remarks>
internal sealed class SqliteGroupCommit : IDisposable
{
    // Bounds how long one commit keeps the queue's later writes waiting.
    private const int MaxBatch = 256;

    private readonly SqliteSessionPool _pool;
    private readonly int _busyTimeoutMilliseconds;
    private readonly Channel<WriteJob> _queue = Channel.CreateUnbounded<WriteJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private SqliteSession? _session;
    private long _submitted;
    private long _batches;
    private long _statements;

    public SqliteGroupCommit(SqliteSessionPool pool, int busyTimeoutMilliseconds)
    {
        _pool = pool;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Writes queued so far.</summary>
    public long Submitted => Interlocked.Read(ref _submitted);

    /// <summary>Transactions the writer has run (committed or not).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Writes the writer has run (succeeded or not).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>Queues one write; completes with its rows once the transaction holding it has committed.</summary>
    public Task<BufferedRows> RunAsync(string sql, SqliteParameter[] parameters, int commandTimeout, CancellationToken cancellationToken)
    {
        var job = new WriteJob(sql, parameters, commandTimeout, cancellationToken);
        if (!_queue.Writer.TryWrite(job))
        {
            throw new ObjectDisposedException(nameof(SqliteGroupCommit));
        }

        Interlocked.Increment(ref _submitted);
        return job.Completion.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<WriteJob>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var job))
            {
                batch.Add(job);
            }

            RunBatch(batch);
            batch.Clear();
        }

        _session?.Dispose();
    }

    private void RunBatch(List<WriteJob> batch)
    {
        Interlocked.Increment(ref _batches);
        var ran = new List<(WriteJob Job, BufferedRows Rows)>(batch.Count);
        SqliteSession? session = null;
        var inTransaction = false;
        try
        {
            session = _session ??= OpenWriterSession();
            foreach (var job in batch)
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Completion.TrySetCanceled(job.CancellationToken);
                    continue;
                }

                if (!inTransaction)
                {
                    BeginImmediate(session);
                    inTransaction = true;
                }

                Interlocked.Increment(ref _statements);
                try
                {
                    ran.Add((job, Execute(session, job)));
                }
                catch (Exception exception)
                {
                    job.Completion.TrySetException(exception);
                    if (SQLitePCLRaw.sqlite3_get_autocommit(session.Connection.Handle) != 0)
                    {
                        // SQLite rolled back the whole transaction, not only the statement: the batch's
                        // earlier writes are gone, and their callers must not hear otherwise.
                        foreach (var (undone, _) in ran)
                        {
                            undone.Completion.TrySetException(exception);
                        }

                        ran.Clear();
                        inTransaction = false;
                    }
                }
            }

            if (inTransaction)
            {
                Exec(session, "COMMIT");
                inTransaction = false;
            }

            foreach (var (job, rows) in ran)
            {
                job.Completion.TrySetResult(rows);
            }
        }
        catch (Exception exception)
        {
            // BEGIN or COMMIT failed (busy timeout, full disk, I/O error): nothing of the batch committed.
            foreach (var job in batch)
            {
                job.Completion.TrySetException(exception);
            }

            if (session is not null && SQLitePCLRaw.sqlite3_get_autocommit(session.Connection.Handle) == 0)
            {
                SQLitePCLRaw.sqlite3_exec(session.Connection.Handle, "ROLLBACK");
            }

            if (_session?.Connection.State != System.Data.ConnectionState.Open)
            {
                _session?.Dispose();
                _session = null;
            }
        }
    }

    private SqliteSession OpenWriterSession()
    {
        var session = _pool.OpenSession();
        // The writer waits for the write lock itself (BeginImmediate), so SQLite's own busy handler is off.
        Exec(session, "PRAGMA busy_timeout = 0");
        return session;
    }

    /// <summary>
    /// Takes the write lock, polling every millisecond up to the busy timeout.
    /// </summary>
    /// <remarks>
    /// Note: while a request transaction (an idempotent request) holds the lock, every grouped write waits
    /// on this one writer. SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20… ms between attempts, which put
    /// the writer, and with it all those writes, up to tens of milliseconds behind a lock that was already
    /// free (mixed load, p99 9 → 14-16 ms). A fixed 1 ms poll keeps that delay under about a millisecond.
    /// </remarks>
    private void BeginImmediate(SqliteSession session)
    {
        var deadline = Environment.TickCount64 + _busyTimeoutMilliseconds;
        while (true)
        {
            var result = SQLitePCLRaw.sqlite3_exec(session.Connection.Handle, "BEGIN IMMEDIATE");
            if (result == SQLitePCLRaw.SQLITE_OK)
            {
                return;
            }

            if ((result & 0xFF) != SQLitePCLRaw.SQLITE_BUSY || Environment.TickCount64 >= deadline)
            {
                throw Error(session, result);
            }

            Thread.Sleep(1);
        }
    }

    private static void Exec(SqliteSession session, string sql)
    {
        var result = SQLitePCLRaw.sqlite3_exec(session.Connection.Handle, sql);
        if (result != SQLitePCLRaw.SQLITE_OK)
        {
            throw Error(session, result);
        }
    }

    private static SqliteException Error(SqliteSession session, int result)
    {
        var handle = session.Connection.Handle;
        return new SqliteException(
            $"SQLite Error {result & 0xFF}: '{SQLitePCLRaw.sqlite3_errmsg(handle).utf8_to_string()}'.",
            result & 0xFF,
            SQLitePCLRaw.sqlite3_extended_errcode(handle));
    }

    private static BufferedRows Execute(SqliteSession session, WriteJob job)
    {
        var statement = session.Bind(job.Sql, job.Parameters, transaction: null, job.CommandTimeout);
        var command = statement.Command;
        try
        {
            BufferedRows rows;
            using (var reader = command.ExecuteReader())
            {
                rows = BufferedRows.Read(reader);
            }

            command.Parameters.Clear();
            if (!statement.Kept)
            {
                command.Dispose();
            }

            return rows;
        }
        catch
        {
            command.Parameters.Clear();
            session.Discard(job.Sql, statement);
            throw;
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(10));
    }

    private sealed record WriteJob(string Sql, SqliteParameter[] Parameters, int CommandTimeout, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<BufferedRows> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

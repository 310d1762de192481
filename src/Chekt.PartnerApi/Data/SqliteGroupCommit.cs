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
/// Request transactions (idempotent requests) queue here too: the writer lends them its session inside
/// its transaction, behind a savepoint (<see cref="SqliteWriterTransaction"/>), so they commit with the
/// batch instead of each taking the write lock and committing alone.
/// </remarks>
internal sealed class SqliteGroupCommit : IDisposable
{
    // Bounds how long one commit keeps the queue's later writes waiting.
    private const int MaxBatch = 256;

    // A request transaction's writes, inside the batch's transaction.
    private const string Savepoint = "SAVEPOINT request_transaction";
    private const string ReleaseSavepoint = "RELEASE request_transaction";
    private const string UndoSavepoint = "ROLLBACK TO request_transaction; RELEASE request_transaction";

    private readonly SqliteSessionPool _pool;
    private readonly int _busyTimeoutMilliseconds;
    private readonly Channel<QueuedJob> _queue = Channel.CreateUnbounded<QueuedJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private SqliteSession? _session;
    private long _submitted;
    private long _batches;
    private long _statements;
    private long _transactions;

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

    /// <summary>Request transactions the writer has lent its session to.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Queues one write; completes with its rows once the transaction holding it has committed.</summary>
    public Task<BufferedRows> RunAsync(string sql, SqliteParameter[] parameters, int commandTimeout, CancellationToken cancellationToken)
    {
        var job = new WriteJob(sql, parameters, commandTimeout, cancellationToken);
        Enqueue(job);
        return job.Completion.Task;
    }

    /// <summary>
    /// Queues a request transaction; completes, in its turn, with the writer's session lent inside the writer's
    /// transaction (see <see cref="SqliteWriterTransaction"/>).
    /// </summary>
    public Task<SqliteWriterTransaction> BeginTransactionAsync(CancellationToken cancellationToken)
    {
        var job = new TransactionJob(cancellationToken);
        Enqueue(job);
        return job.Granted.Task;
    }

    private void Enqueue(QueuedJob job)
    {
        if (!_queue.Writer.TryWrite(job))
        {
            throw new ObjectDisposedException(nameof(SqliteGroupCommit));
        }

        Interlocked.Increment(ref _submitted);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<QueuedJob>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var job))
            {
                batch.Add(job);
            }

            await RunBatchAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }

        _session?.Dispose();
    }

    private async Task RunBatchAsync(List<QueuedJob> batch)
    {
        Interlocked.Increment(ref _batches);
        var ran = new List<(QueuedJob Job, BufferedRows? Rows)>(batch.Count);
        SqliteSession? session = null;
        var inTransaction = false;
        try
        {
            session = _session ??= OpenWriterSession();
            foreach (var job in batch)
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Cancel();
                    continue;
                }

                if (!inTransaction)
                {
                    BeginImmediate(session);
                    inTransaction = true;
                }

                Exception? failure;
                if (job is WriteJob write)
                {
                    Interlocked.Increment(ref _statements);
                    try
                    {
                        ran.Add((write, Execute(session, write)));
                        continue;
                    }
                    catch (Exception exception)
                    {
                        write.Fail(exception);
                        failure = exception;
                    }
                }
                else
                {
                    var transaction = (TransactionJob)job;
                    Interlocked.Increment(ref _transactions);
                    if (await LendAsync(session, transaction).ConfigureAwait(false))
                    {
                        ran.Add((transaction, null));
                        continue;
                    }

                    // The request met the error itself; what the others hear is that the database could not keep the batch.
                    failure = new SqliteException("SQLite rolled back the writer's transaction (a full disk or an I/O error).", SQLitePCLRaw.SQLITE_IOERR);
                    transaction.Fail(failure);
                }

                if (SQLitePCLRaw.sqlite3_get_autocommit(session.Connection.Handle) != 0)
                {
                    // SQLite rolled back the whole transaction, not only the statement: the batch's
                    // earlier writes are gone, and their callers must not hear otherwise.
                    foreach (var (undone, _) in ran)
                    {
                        undone.Fail(failure);
                    }

                    ran.Clear();
                    inTransaction = false;
                }
            }

            if (inTransaction)
            {
                Exec(session, "COMMIT");
                inTransaction = false;
            }

            foreach (var (job, rows) in ran)
            {
                job.Complete(rows);
            }
        }
        catch (Exception exception)
        {
            // BEGIN or COMMIT failed (busy timeout, full disk, I/O error): nothing of the batch committed.
            foreach (var job in batch)
            {
                job.Fail(exception);
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

    /// <summary>
    /// Lends the session to a request transaction behind a savepoint and waits until it is handed back.
    /// False when SQLite rolled back the writer's whole transaction meanwhile (a full disk, an I/O error).
    /// </summary>
    private async Task<bool> LendAsync(SqliteSession session, TransactionJob job)
    {
        Exec(session, Savepoint);
        var transaction = new SqliteWriterTransaction(_pool, session);
        job.Transaction = transaction;
        job.Granted.SetResult(transaction);
        var commit = await transaction.HandedBack.ConfigureAwait(false);
        if (SQLitePCLRaw.sqlite3_get_autocommit(session.Connection.Handle) != 0)
        {
            return false;
        }

        // A refusal undoes the request's writes alone; the batch's other writes stay.
        Exec(session, commit ? ReleaseSavepoint : UndoSavepoint);
        return true;
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

    private abstract class QueuedJob(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken => cancellationToken;

        /// <summary>Cancelled while queued: not run.</summary>
        public abstract void Cancel();

        /// <summary>The batch holding it committed.</summary>
        public abstract void Complete(BufferedRows? rows);

        /// <summary>It failed, or the batch holding it did.</summary>
        public abstract void Fail(Exception exception);
    }

    private sealed class WriteJob(string sql, SqliteParameter[] parameters, int commandTimeout, CancellationToken cancellationToken)
        : QueuedJob(cancellationToken)
    {
        public string Sql => sql;

        public SqliteParameter[] Parameters => parameters;

        public int CommandTimeout => commandTimeout;

        public TaskCompletionSource<BufferedRows> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Cancel() => Completion.TrySetCanceled(CancellationToken);

        public override void Complete(BufferedRows? rows) => Completion.TrySetResult(rows!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);
    }

    private sealed class TransactionJob(CancellationToken cancellationToken) : QueuedJob(cancellationToken)
    {
        // Note: the request goes on on the writer's thread when granted, up to its first wait that does not complete at
        // once. Its database work does, so it usually runs to its commit, hands the session back and the writer
        // goes on without a thread switch either way. Continuations of the settle (after the commit) are asynchronous.
        public TaskCompletionSource<SqliteWriterTransaction> Granted { get; } = new();

        /// <summary>Set once the writer has lent its session.</summary>
        public SqliteWriterTransaction? Transaction { get; set; }

        public override void Cancel() => Granted.TrySetCanceled(CancellationToken);

        public override void Complete(BufferedRows? rows) => Transaction?.Settle(null);

        public override void Fail(Exception exception)
        {
            Granted.TrySetException(exception);
            Transaction?.Settle(exception);
        }
    }
}

using System.Data;
using System.Data.Common;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// A request transaction run on the group commit's writer (<see cref="SqliteGroupCommit.BeginTransactionAsync"/>):
/// its statements run on the writer's session, inside the writer's open transaction, behind a savepoint.
/// Committing releases the savepoint and rolling back undoes it; either way the writer then goes on with
/// its batch, and <see cref="CommitAsync"/> and <see cref="RollbackAsync"/> complete once the batch's
/// commit has (or fail with it).
/// </summary>
/// <remarks>
/// Note: the writer waits for the holder to hand its session back, and the writes queued behind it wait
/// too. A holder therefore runs database work only, and never waits on a grouped write (see
/// <see cref="Db.BeginRequestTransactionAsync"/>), which would wait for the holder in turn.
/// </remarks>
internal sealed class SqliteWriterTransaction : DbTransaction
{
    private readonly PooledSqliteConnection _connection;
    private readonly TaskCompletionSource<bool> _handedBack = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _finished;

    internal SqliteWriterTransaction(SqliteSessionPool pool, SqliteSession session) =>
        _connection = new PooledSqliteConnection(pool, session, lentByWriter: true);

    public override IsolationLevel IsolationLevel => IsolationLevel.Serializable;

    protected override DbConnection DbConnection => _connection;

    /// <summary>For the writer: completes when the holder is done, with whether it committed.</summary>
    internal Task<bool> HandedBack => _handedBack.Task;

    /// <summary>For the writer: the batch holding this transaction committed (null) or failed.</summary>
    internal void Settle(Exception? error)
    {
        if (error is null)
        {
            _settled.TrySetResult();
        }
        else
        {
            _settled.TrySetException(error);
        }
    }

    public override void Commit() => throw Synchronous();

    public override void Rollback() => throw Synchronous();

    // Note: a commit that has been handed to the writer cannot be called off, so the token is not observed.
    public override Task CommitAsync(CancellationToken cancellationToken = default) => FinishAsync(commit: true);

    public override Task RollbackAsync(CancellationToken cancellationToken = default) => FinishAsync(commit: false);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            HandBack(commit: false);
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private Task FinishAsync(bool commit) =>
        HandBack(commit)
            ? _settled.Task
            : throw new InvalidOperationException("This transaction has already been committed or rolled back.");

    private bool HandBack(bool commit)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return false;
        }

        // The connection is closed first: once the writer has its session back, nothing here may use it.
        _connection.Close();
        _handedBack.TrySetResult(commit);
        return true;
    }

    private static NotSupportedException Synchronous() =>
        new("A request transaction on SQLite's writer commits and rolls back asynchronously.");
}

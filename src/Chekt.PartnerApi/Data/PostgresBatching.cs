using System.Collections.Concurrent;
using Npgsql;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// Statement batching for PostgreSQL: the single statements that concurrent requests run outside a
/// transaction queue here and go to the server together, many in one round trip (<see cref="NpgsqlBatch"/>).
/// Each round trip costs PostgreSQL a backend wake-up and the server a send, a receive and a scheduling of
/// the reply, on top of the statement itself; for the small indexed statements of the API that overhead is
/// most of the work. Writes also share one commit, so one WAL flush makes a whole batch durable.
/// </summary>
/// <remarks>
/// Note: reads and writes queue apart. Reads run on up to <c>readLanes</c> connections at a time, each batch
/// under PostgreSQL's statement-level snapshots, as if its statements ran one by one. Writes run on one lane,
/// one batch after the other, in one implicit transaction per batch: a batch of writes never waits on
/// another batch's row locks, so two batches cannot deadlock each other. A caller is answered only after
/// the batch that holds its statement has committed, so an answered write is exactly as durable as before.
/// When any statement of a batch fails, PostgreSQL rolls the whole batch back; each statement of it is then
/// run again on its own, so a failure (a unique violation, which is a 409) stays its caller's alone and the
/// others still succeed. A batch that fails because the connection broke fails every statement in it with
/// that error (a 503 for the request), as a single statement would have.
///
/// Reads of the same text that want their first row only (a reader opened with <see cref="System.Data.CommandBehavior.SingleRow"/>,
/// or a scalar) and whose arguments are all integers go to PostgreSQL as one statement for all of them
/// (<see cref="PositionalSql.CombinedText"/>): the access query of concurrent GETs is one execution, not one each.
/// Likewise single-row inserts of the same text with integer, text or null arguments (<see cref="CombinedInsert"/>): the
/// contact inserts of concurrent creates are one execution, and each caller gets the row that carries its own values.
/// </remarks>
internal sealed class PostgresBatching : IAsyncDisposable
{
    // Bounds how long one round trip keeps the statements queued behind it waiting.
    private const int MaxReadBatch = 64;
    private const int MaxWriteBatch = 128;

    private readonly NpgsqlDataSource _source;
    private readonly BlockingCollection<Job> _reads = [];
    private readonly BlockingCollection<Job> _writes = [];
    private readonly Thread[] _lanes;
    private long _submitted;
    private long _readBatches;
    private long _writeBatches;
    private long _statements;
    private long _combined;
    private long _combinedInserts;
    private long _retried;

    /// <param name="source">Where the batches' connections come from (one per lane while it runs a batch).</param>
    /// <param name="readLanes">How many read batches may be in flight at once.</param>
    public PostgresBatching(NpgsqlDataSource source, int readLanes)
    {
        _source = source;
        // Note: each lane is a thread of its own that waits on its socket, so the database's answer wakes it
        // directly. On the thread pool, the answer's continuation queued behind the requests' own work, and
        // under load a batch spent most of its time there instead of on the wire (p99 20-40 ms).
        _lanes =
        [
            .. Enumerable.Range(0, Math.Max(1, readLanes)).Select(index => StartLane(_reads, MaxReadBatch, write: false, $"Postgres reads {index + 1}")),
            StartLane(_writes, MaxWriteBatch, write: true, "Postgres writes"),
        ];
    }

    private Thread StartLane(BlockingCollection<Job> queue, int maxBatch, bool write, string name)
    {
        var thread = new Thread(() => RunLane(queue, maxBatch, write)) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    /// <summary>Statements queued so far.</summary>
    public long Submitted => Interlocked.Read(ref _submitted);

    /// <summary>Batches of reads sent (a batch run again statement by statement counts once).</summary>
    public long ReadBatches => Interlocked.Read(ref _readBatches);

    /// <summary>Batches of writes sent (a batch run again statement by statement counts once).</summary>
    public long WriteBatches => Interlocked.Read(ref _writeBatches);

    /// <summary>Statements waiting for a lane right now.</summary>
    public int Queued(bool write) => (write ? _writes : _reads).Count;

    /// <summary>Statements sent in batches (succeeded or not).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>Statements sent inside a statement that runs them together with others of the same text (succeeded or not).</summary>
    public long Combined => Interlocked.Read(ref _combined);

    /// <summary>Inserts sent inside a statement that inserts the rows of others of the same text too (succeeded or not).</summary>
    public long CombinedInserts => Interlocked.Read(ref _combinedInserts);

    /// <summary>Statements run again on their own because another statement of their batch failed.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>
    /// Queues one statement; completes with its rows once its batch has run (and, for a write, committed). A read whose caller
    /// reads no more than its first row (<paramref name="firstRowOnly"/>) may run together with others of its text.
    /// </summary>
    public Task<BufferedRows> RunAsync(string sql, StatementKind kind, NpgsqlParameter[] parameters, int commandTimeout, CancellationToken cancellationToken,
        bool firstRowOnly = false)
    {
        if (kind == StatementKind.None)
        {
            throw new ArgumentException("The statement cannot join a batch.", nameof(kind));
        }

        var job = new Job(sql, kind, parameters, commandTimeout, cancellationToken) { FirstRowOnly = firstRowOnly && kind == StatementKind.Read };
        var queue = kind == StatementKind.Read ? _reads : _writes;
        try
        {
            queue.Add(job);
        }
        catch (InvalidOperationException exception)
        {
            // The server is shutting down: the lanes take no more statements.
            throw new ObjectDisposedException(nameof(PostgresBatching), exception);
        }

        Interlocked.Increment(ref _submitted);
        return job.Completion.Task;
    }

    private void RunLane(BlockingCollection<Job> queue, int maxBatch, bool write)
    {
        var batch = new List<Job>(maxBatch);
        while (queue.TryTake(out var first, Timeout.Infinite))
        {
            // Note: a lane takes everything that queued while it was busy (up to the limit), so the busier the
            // server, the fuller the batches; an idle lane sends a lone statement at once.
            batch.Add(first);
            while (batch.Count < maxBatch && queue.TryTake(out var next))
            {
                batch.Add(next);
            }

            batch.RemoveAll(job => job.CancellationToken.IsCancellationRequested && job.Completion.TrySetCanceled(job.CancellationToken));
            if (batch.Count > 0)
            {
                RunBatch(batch, write);
            }

            batch.Clear();
        }
    }

    private void RunBatch(List<Job> jobs, bool write)
    {
        try
        {
            using var connection = _source.OpenConnection();
            Interlocked.Increment(ref write ? ref _writeBatches : ref _readBatches);
            Interlocked.Add(ref _statements, jobs.Count);
            BufferedRows[] results;
            try
            {
                results = Execute(connection, jobs);
            }
            catch (PostgresException) when (jobs.Count > 1 && connection.State == System.Data.ConnectionState.Open)
            {
                // One statement failed and PostgreSQL undid the whole batch: each runs again alone, so that the
                // failure is its caller's only. Nothing of the failed batch was committed or handed out.
                Interlocked.Add(ref _retried, jobs.Count);
                RunOneByOne(connection, jobs);
                return;
            }

            for (var index = 0; index < jobs.Count; index++)
            {
                jobs[index].Completion.TrySetResult(results[index]);
            }
        }
        catch (Exception exception)
        {
            // No connection, a broken one, a timeout: every statement of the batch fails with the error.
            foreach (var job in jobs)
            {
                job.Completion.TrySetException(exception);
            }
        }
    }

    private void RunOneByOne(NpgsqlConnection connection, List<Job> jobs)
    {
        for (var index = 0; index < jobs.Count; index++)
        {
            var job = jobs[index];
            try
            {
                job.Completion.TrySetResult(Execute(connection, jobs.GetRange(index, 1))[0]);
            }
            catch (Exception exception)
            {
                job.Completion.TrySetException(exception);
                if (connection.State != System.Data.ConnectionState.Open)
                {
                    // The connection broke: the statements not run yet fail with it.
                    foreach (var rest in jobs.Skip(index + 1))
                    {
                        rest.Completion.TrySetException(exception);
                    }

                    return;
                }
            }
        }
    }

    /// <summary>Runs the statements in one round trip (one implicit transaction) and buffers each one's answer.</summary>
    private BufferedRows[] Execute(NpgsqlConnection connection, List<Job> jobs)
    {
        // A timeout of 0 is no timeout; otherwise the batch may take as long as its most patient statement.
        using var batch = new NpgsqlBatch(connection) { Timeout = jobs.Any(job => job.CommandTimeout == 0) ? 0 : jobs.Max(job => job.CommandTimeout) };
        var units = Units(jobs);
        var renamed = new List<(NpgsqlParameter Parameter, string Name)>();
        try
        {
            foreach (var unit in units)
            {
                batch.BatchCommands.Add(unit switch
                {
                    { Jobs.Length: 1 } => Command(jobs[unit.Jobs[0]], renamed),
                    { Insert: { } insert } => CombinedInsertCommand(insert),
                    _ => CombinedCommand(jobs[unit.Jobs[0]].Sql, unit),
                });
                if (unit.Jobs.Length > 1)
                {
                    Interlocked.Add(ref unit.Insert is null ? ref _combined : ref _combinedInserts, unit.Jobs.Length);
                }
            }

            return ReadAnswers(batch, jobs, units);
        }
        finally
        {
            // A parameter belongs to one collection at a time; a statement run again alone needs its own back,
            // with its name.
            foreach (var command in batch.BatchCommands)
            {
                command.Parameters.Clear();
            }

            foreach (var (parameter, name) in renamed)
            {
                parameter.ParameterName = name;
            }
        }
    }

    /// <summary>
    /// The batch's statements: the jobs each one answers. A job is a statement of its own, except the reads of one text that
    /// may be combined (<see cref="CombinableArguments"/>) and the inserts of one text and signature that may be combined
    /// (<see cref="CombinedInsert"/>): each such group is one statement when it has several jobs.
    /// </summary>
    private static List<Unit> Units(List<Job> jobs)
    {
        var units = new List<Unit>(jobs.Count);
        Dictionary<string, (List<int> Jobs, List<long[]> Arguments)>? reads = null;
        Dictionary<(string Sql, string Signature), (CombinedInsert Insert, List<int> Jobs, List<object?[]> Arguments, Dictionary<InsertKey, int> Owners)>? inserts = null;
        for (var index = 0; index < jobs.Count; index++)
        {
            var job = jobs[index];
            if (CombinableArguments(job) is { } values)
            {
                reads ??= new(StringComparer.Ordinal);
                if (!reads.TryGetValue(job.Sql, out var same))
                {
                    reads[job.Sql] = same = ([], []);
                }

                same.Jobs.Add(index);
                same.Arguments.Add(values);
            }
            else if (job.Kind == StatementKind.WriteReturningRows && CombinedInsert.For(job.Sql) is { } insert
                     && insert.Arguments(job.Parameters) is var (signature, arguments))
            {
                inserts ??= [];
                if (!inserts.TryGetValue((job.Sql, signature), out var group))
                {
                    inserts[(job.Sql, signature)] = group = (insert, [], [], []);
                }

                // Note: an insert whose returned values would be the same as another's of the group cannot be told apart
                // from it in the answer: it is a statement of its own.
                if (group.Owners.TryAdd(insert.Key(arguments), group.Jobs.Count))
                {
                    group.Jobs.Add(index);
                    group.Arguments.Add(arguments);
                }
                else
                {
                    units.Add(new Unit([index]));
                }
            }
            else
            {
                units.Add(new Unit([index]));
            }
        }

        if (reads is not null)
        {
            // A text read once in the batch is a statement of its own as well.
            units.AddRange(reads.Values.Select(same => new Unit([.. same.Jobs], ReadArguments: [.. same.Arguments])));
        }

        if (inserts is not null)
        {
            units.AddRange(inserts.Select(group => new Unit([.. group.Value.Jobs], new CombinedInsertUnit(
                group.Value.Insert, group.Key.Signature, [.. group.Value.Arguments], group.Value.Owners))));
        }

        return units;
    }

    /// <summary>
    /// For a read of its first row with a combined form of its text, whose parameters match its placeholders and are all
    /// integers: the arguments in the order of the placeholders. Null for any other job.
    /// </summary>
    private static long[]? CombinableArguments(Job job)
    {
        if (!job.FirstRowOnly || PositionalSql.For(job.Sql) is not { CombinedText: not null } positional
            || positional.Order(job.Parameters) is not { } ordered)
        {
            return null;
        }

        var values = new long[ordered.Length];
        for (var index = 0; index < ordered.Length; index++)
        {
            if (!IsBigint(ordered[index]))
            {
                return null;
            }

            values[index] = (long)ordered[index].Value!;
        }

        return values;
    }

    // Note: the arguments go as bigint[]; alone, a long is sent as bigint too (untyped, or typed so), so the statement reads
    // the same values with the same types. A parameter typed otherwise keeps its statement to itself.
    internal static bool IsBigint(NpgsqlParameter parameter) =>
        parameter.Value is long && parameter.Direction == System.Data.ParameterDirection.Input
        && (parameter.NpgsqlDbType == NpgsqlTypes.NpgsqlDbType.Bigint || IsUntyped(parameter));

    /// <summary>A parameter whose type Npgsql infers from its value.</summary>
    internal static bool IsUntyped(NpgsqlParameter parameter) =>
        parameter.NpgsqlDbType == NpgsqlTypes.NpgsqlDbType.Unknown && string.IsNullOrEmpty(parameter.DataTypeName);

    /// <summary>The reads of one text as one statement: each placeholder's arguments, one per read, as an array.</summary>
    private static NpgsqlBatchCommand CombinedCommand(string sql, Unit unit)
    {
        var positional = PositionalSql.For(sql)!;
        var command = new NpgsqlBatchCommand(positional.CombinedText!);
        for (var placeholder = 0; placeholder < positional.Names.Count; placeholder++)
        {
            var values = new long[unit.Jobs.Length];
            for (var read = 0; read < unit.Jobs.Length; read++)
            {
                values[read] = unit.ReadArguments![read][placeholder];
            }

            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = values });
        }

        return command;
    }

    /// <summary>The inserts of one text and signature as one statement: each placeholder's arguments, one per insert, as an array.</summary>
    private static NpgsqlBatchCommand CombinedInsertCommand(CombinedInsertUnit unit)
    {
        var command = new NpgsqlBatchCommand(unit.Insert.TextFor(unit.Signature));
        for (var placeholder = 0; placeholder < unit.Signature.Length; placeholder++)
        {
            switch (unit.Signature[placeholder])
            {
                case 'b':
                    command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. unit.Arguments.Select(arguments => (long)arguments[placeholder]!)] });
                    break;
                case 't':
                    command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. unit.Arguments.Select(arguments => (string)arguments[placeholder]!)] });
                    break;
            }
        }

        return command;
    }

    /// <summary>The job's statement, in its positional form when it has one (<see cref="PositionalSql"/>).</summary>
    private static NpgsqlBatchCommand Command(Job job, List<(NpgsqlParameter Parameter, string Name)> renamed)
    {
        var positional = PositionalSql.For(job.Sql);
        if (positional?.Order(job.Parameters) is not { } ordered)
        {
            var named = new NpgsqlBatchCommand(job.Sql);
            foreach (var parameter in job.Parameters)
            {
                named.Parameters.Add(parameter);
            }

            return named;
        }

        // Note: a parameter without a name is positional to Npgsql, which then sends the text as it is.
        var command = new NpgsqlBatchCommand(positional.Text);
        foreach (var parameter in ordered)
        {
            renamed.Add((parameter, parameter.ParameterName));
            parameter.ParameterName = "";
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static BufferedRows[] ReadAnswers(NpgsqlBatch batch, List<Job> jobs, List<Unit> units)
    {
        var results = new BufferedRows?[jobs.Count];
        using (var reader = batch.ExecuteReader())
        {
            // Note: Npgsql's reader skips the statements that answer without a result set (a write without
            // RETURNING) and starts on the first one that has one; the kinds say which result set is whose.
            var first = true;
            foreach (var unit in units)
            {
                var jobsOfUnit = unit.Jobs;
                if (jobs[jobsOfUnit[0]].Kind == StatementKind.Write)
                {
                    continue;
                }

                if ((!first && !reader.NextResult()) || reader.FieldCount == 0)
                {
                    throw new InvalidOperationException($"The statement answered without the rows it was expected to return: {jobs[jobsOfUnit[0]].Sql}");
                }

                first = false;
                if (jobsOfUnit.Length == 1)
                {
                    results[jobsOfUnit[0]] = BufferedRows.Read(reader);
                    continue;
                }

                var answers = unit.Insert is { } insert
                    ? MatchInsertedRows(insert, BufferedRows.Read(reader))
                    : BufferedRows.ReadCombined(reader, jobsOfUnit.Length);
                for (var row = 0; row < jobsOfUnit.Length; row++)
                {
                    results[jobsOfUnit[row]] = answers[row];
                }
            }

            // A result set nobody claimed means the kinds were wrong: no caller may get another's rows.
            if (first ? reader.FieldCount > 0 : reader.NextResult())
            {
                throw new InvalidOperationException("The batch answered with more result sets than its statements were expected to return.");
            }
        }

        var answered = new BufferedRows[jobs.Count];
        for (var index = 0; index < units.Count; index++)
        {
            // A combined read is a SELECT too: its count is what each of its reads would have had alone. Each insert of a
            // combined one inserted the row it is answered with, if any.
            var combinedInsert = units[index].Insert is not null && units[index].Jobs.Length > 1;
            foreach (var job in units[index].Jobs)
            {
                var recordsAffected = combinedInsert ? results[job]!.Rows.Count : batch.BatchCommands[index].RecordsAffected;
                answered[job] = results[job]?.WithRecordsAffected(recordsAffected) ?? BufferedRows.Empty(recordsAffected);
            }
        }

        return answered;
    }

    /// <summary>
    /// The answer of each insert of a combined one (in the unit's order): the row that carries its own arguments, or no row
    /// for a guarded insert whose condition did not hold. Fails when a row matches no insert, or one already answered, or an
    /// insert that always inserts gets no row.
    /// </summary>
    private static BufferedRows[] MatchInsertedRows(CombinedInsertUnit unit, BufferedRows answer)
    {
        var waiting = new Dictionary<InsertKey, int>(unit.Owners);
        var answers = new BufferedRows?[unit.Arguments.Length];
        foreach (var row in answer.Rows)
        {
            if (unit.Insert.KeyOfRow(row) is not { } key || !waiting.Remove(key, out var owner))
            {
                throw new InvalidOperationException("A combined insert answered a row that none of its inserts is waiting for.");
            }

            answers[owner] = answer.OnlyRow(row);
        }

        if (waiting.Count == 0 || unit.Insert.MayInsertNothing)
        {
            return [.. answers.Select(row => row ?? answer.WithoutRows())];
        }

        throw new InvalidOperationException("A combined insert answered fewer rows than it inserted.");
    }

    public ValueTask DisposeAsync()
    {
        _reads.CompleteAdding();
        _writes.CompleteAdding();
        foreach (var lane in _lanes)
        {
            // The lanes finish what is queued; a batch stuck on the database does not hold up shutdown for long.
            // Note: the queues are not disposed, so that a lane still running after that finds them usable.
            lane.Join(TimeSpan.FromSeconds(10));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// One statement of a batch and the jobs it answers; for several jobs, either reads of one text (with each one's arguments,
    /// in placeholder order) or inserts of one text and signature.
    /// </summary>
    private readonly record struct Unit(int[] Jobs, CombinedInsertUnit? Insert = null, long[][]? ReadArguments = null);

    /// <summary>
    /// Inserts of one text and signature as one statement: each one's arguments in placeholder order, and which of them (by
    /// position) each key of an answered row belongs to.
    /// </summary>
    private sealed record CombinedInsertUnit(CombinedInsert Insert, string Signature, object?[][] Arguments, IReadOnlyDictionary<InsertKey, int> Owners);

    private sealed record Job(string Sql, StatementKind Kind, NpgsqlParameter[] Parameters, int CommandTimeout, CancellationToken CancellationToken)
    {
        /// <summary>A read whose caller wants its first row only, which may run combined with others of its text.</summary>
        public bool FirstRowOnly { get; init; }

        public TaskCompletionSource<BufferedRows> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

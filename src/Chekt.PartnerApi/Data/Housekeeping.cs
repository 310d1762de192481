using Dapper;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// Deletes what has expired: idempotency records (24 h), used client-assertion ids, revoked access
/// tokens, authorization codes and refresh tokens. Every instance runs it; the deletes are idempotent.
/// </summary>
public sealed class Housekeeping(Db db, TimeProvider clock, ILogger<Housekeeping> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    // Used authorization codes are kept a day past their expiry so that a late replay is still recognised and logged.
    private static readonly TimeSpan CodeRetention = TimeSpan.FromDays(1);

    /// <summary>One pass; returns how many rows were removed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // A connection of its own: a large delete must not hold up a batch of the requests' statements.
        await using var connection = await db.OpenSessionAsync(cancellationToken);
        var removed = 0;
        foreach (var (sql, cutoff) in new[]
        {
            ("DELETE FROM idempotency_records WHERE expires_at < @cutoff", now),
            ("DELETE FROM client_assertion_jtis WHERE expires_at < @cutoff", now),
            ("DELETE FROM revoked_access_tokens WHERE expires_at < @cutoff", now),
            ("DELETE FROM refresh_tokens WHERE expires_at < @cutoff", now),
            ("DELETE FROM authorization_codes WHERE expires_at < @cutoff", now - (long)CodeRetention.TotalMilliseconds),
        })
        {
            removed += await connection.ExecuteAsync(new CommandDefinition(sql, new { cutoff }, cancellationToken: cancellationToken));
        }

        return removed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var removed = await RunOnceAsync(stoppingToken);
                if (removed > 0)
                {
                    logger.LogInformation("Housekeeping removed {Rows} expired rows", removed);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Note: a failed pass (database down) is retried at the next tick; it must never stop the server.
                logger.LogWarning("Housekeeping failed: {Reason}", exception.GetBaseException().Message);
            }
        }
    }
}

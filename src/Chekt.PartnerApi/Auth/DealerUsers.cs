using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Auth;

public sealed record DealerUser(long Id, long DealerId, string Email, string Role)
{
    public bool IsAdmin => Role == "admin";
}

/// <summary>Dealer user sign-in with lockout after repeated failures.</summary>
public sealed class DealerUserStore(Db db, TimeProvider clock, IOptions<AuthOptions> options)
{
    public const int MaxFailedSignIns = 5;
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    private readonly Lazy<string> _dummyHash = new(() => PasswordHasher.Hash(Secrets.NewOpaqueValue(), options.Value.PasswordHashIterations));

    public async Task<DealerUser?> FindAsync(long userId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT id AS Id, dealer_id AS DealerId, email AS Email, role AS Role FROM dealer_users WHERE id = @userId",
            new { userId }, cancellationToken: cancellationToken));
        return row?.ToUser();
    }

    /// <summary>
    /// Checks the credentials. Note: an unknown email, a wrong password and a locked account give the
    /// same answer (null) after the same work, so the page reveals nothing about which emails exist.
    /// </summary>
    public async Task<DealerUser?> SignInAsync(string email, string password, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            """
            SELECT id AS Id, dealer_id AS DealerId, email AS Email, role AS Role, password_hash AS PasswordHash,
                   failed_login_count AS FailedLoginCount, locked_until AS LockedUntil
            FROM dealer_users WHERE email_normalized = @email
            """,
            new { email = Operator.NormalizeEmail(email) }, cancellationToken: cancellationToken));

        var locked = row?.LockedUntil is { } until && until > now.ToUnixTimeMilliseconds();
        var valid = PasswordHasher.Verify(password, row?.PasswordHash ?? _dummyHash.Value) && row is not null;
        if (row is null || locked)
        {
            return null;
        }

        if (valid)
        {
            if (row.FailedLoginCount != 0 || row.LockedUntil is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE dealer_users SET failed_login_count = 0, locked_until = NULL WHERE id = @Id", new { row.Id }, cancellationToken: cancellationToken));
            }

            return row.ToUser();
        }

        // Counting is one statement, so concurrent failures are all counted.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE dealer_users SET
                locked_until = CASE WHEN failed_login_count + 1 >= @max THEN @lockedUntil ELSE NULL END,
                failed_login_count = CASE WHEN failed_login_count + 1 >= @max THEN 0 ELSE failed_login_count + 1 END
            WHERE id = @Id
            """,
            new { row.Id, max = MaxFailedSignIns, lockedUntil = (now + LockoutDuration).ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        return null;
    }

    private sealed class UserRow
    {
        public long Id { get; init; }

        public long DealerId { get; init; }

        public string Email { get; init; } = "";

        public string Role { get; init; } = "";

        public string PasswordHash { get; init; } = "";

        public long FailedLoginCount { get; init; }

        public long? LockedUntil { get; init; }

        public DealerUser ToUser() => new(Id, DealerId, Email, Role);
    }
}

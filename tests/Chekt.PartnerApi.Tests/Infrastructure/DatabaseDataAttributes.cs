using System.Reflection;
using Chekt.PartnerApi.Data;
using Xunit.Sdk;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>Runs the theory against SQLite.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OnSqliteAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DatabaseProvider.Sqlite]];
}

/// <summary>
/// Runs the theory against PostgreSQL; reported as skipped, with the reason, when PostgreSQL is not
/// installed, except under CI where it must run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OnPostgresAttribute : DataAttribute
{
    public OnPostgresAttribute() => Skip = PostgresServer.SkipReason!;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[DatabaseProvider.Postgres]];
}

/// <summary>A fact that needs a PostgreSQL cluster of its own (stopped and restarted by the test).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OwnPostgresClusterFactAttribute : FactAttribute
{
    public OwnPostgresClusterFactAttribute()
    {
        if (!PostgresServer.CanStartOwnCluster && !PostgresServer.Required)
        {
            Skip = "PostgreSQL binaries (initdb, pg_ctl) are not installed; install the postgresql package.";
        }
    }
}

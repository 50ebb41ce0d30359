using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Resilience.Scoring.Tests;

/// <summary>A data source of some other provider: the store must refuse its connections by name.</summary>
internal sealed class NotNpgsqlDataSource : DbDataSource
{
    public override string ConnectionString => "Data Source=elsewhere";

    protected override DbConnection CreateDbConnection() => new NotNpgsqlConnection();
}

internal sealed class NotNpgsqlConnection : DbConnection
{
    private ConnectionState _state = ConnectionState.Closed;

    [AllowNull]
    public override string ConnectionString { get; set; } = string.Empty;

    public override string Database => "elsewhere";

    public override string DataSource => "elsewhere";

    public override string ServerVersion => "0";

    public override ConnectionState State => _state;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Close() => _state = ConnectionState.Closed;

    public override void Open() => _state = ConnectionState.Open;

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

    protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
}

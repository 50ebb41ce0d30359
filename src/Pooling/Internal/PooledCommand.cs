using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// The command <see cref="DbDataSource.CreateCommand(string?)"/> returns: each execution rents a connection from the pool
/// and returns it when done (for readers, when the reader is closed).
/// </summary>
internal sealed class PooledCommand : DbCommand
{
    private readonly NpgsqlCommand _command;
    private readonly PooledExecution<NpgsqlCommand> _execution;

    public PooledCommand(PostgresPool pool, string? commandText)
    {
        _command = new NpgsqlCommand(commandText);
        _execution = new PooledExecution<NpgsqlCommand>(pool, _command, static (command, connection) => command.Connection = connection);
    }

    [AllowNull]
    public override string CommandText
    {
        get => _command.CommandText;
        set => _command.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => _command.CommandTimeout;
        set => _command.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => _command.CommandType;
        set => _command.CommandType = value;
    }

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource
    {
        get => _command.UpdatedRowSource;
        set => _command.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => null;
        set => throw new NotSupportedException("A command created by the pool rents its own connection for each execution.");
    }

    protected override DbParameterCollection DbParameterCollection => _command.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => null;
        set => throw new NotSupportedException("Rent a connection and begin the transaction on it.");
    }

    public override void Cancel() => _command.Cancel();

    public override void Prepare() => throw new NotSupportedException("A command created by the pool cannot be prepared; rent a connection instead.");

    public override int ExecuteNonQuery() => _execution.Execute(static command => command.ExecuteNonQuery());

    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) =>
        _execution.ExecuteAsync(static (command, token) => command.ExecuteNonQueryAsync(token), cancellationToken);

    public override object? ExecuteScalar() => _execution.Execute(static command => command.ExecuteScalar());

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken) =>
        _execution.ExecuteAsync(static (command, token) => command.ExecuteScalarAsync(token), cancellationToken);

    protected override DbParameter CreateDbParameter() => _command.CreateParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) =>
        _execution.ExecuteReader(behavior, static (command, closing) => command.ExecuteReader(closing));

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        await _execution.ExecuteReaderAsync(behavior, static (command, closing, token) => command.ExecuteReaderAsync(closing, token), cancellationToken)
            .ConfigureAwait(false);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _command.Dispose();
        }

        base.Dispose(disposing);
    }
}

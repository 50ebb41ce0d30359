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
    private readonly PostgresPool _pool;
    private readonly NpgsqlCommand _command;

    public PooledCommand(PostgresPool pool, string? commandText)
    {
        _pool = pool;
        _command = new NpgsqlCommand(commandText);
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

    public override int ExecuteNonQuery()
    {
        using var connection = _pool.OpenConnection();
        _command.Connection = connection;
        return _command.ExecuteNonQuery();
    }

    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _command.Connection = connection;
            return await _command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override object? ExecuteScalar()
    {
        using var connection = _pool.OpenConnection();
        _command.Connection = connection;
        return _command.ExecuteScalar();
    }

    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _command.Connection = connection;
            return await _command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    protected override DbParameter CreateDbParameter() => _command.CreateParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        var connection = _pool.OpenConnection();
        try
        {
            _command.Connection = connection;
            return _command.ExecuteReader(behavior | CommandBehavior.CloseConnection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _command.Connection = connection;
            return await _command.ExecuteReaderAsync(behavior | CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _command.Dispose();
        }

        base.Dispose(disposing);
    }
}

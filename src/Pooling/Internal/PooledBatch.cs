using System.Data;
using System.Data.Common;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// The batch <see cref="DbDataSource.CreateBatch"/> returns: each execution rents a connection from the pool and returns
/// it when done (for readers, when the reader is closed), like <see cref="PooledCommand"/>.
/// </summary>
internal sealed class PooledBatch : DbBatch
{
    private readonly PostgresPool _pool;
    private readonly NpgsqlBatch _batch = new();

    public PooledBatch(PostgresPool pool) => _pool = pool;

    public override int Timeout
    {
        get => _batch.Timeout;
        set => _batch.Timeout = value;
    }

    protected override DbBatchCommandCollection DbBatchCommands => _batch.BatchCommands;

    protected override DbConnection? DbConnection
    {
        get => null;
        set => throw new NotSupportedException("A batch created by the pool rents its own connection for each execution.");
    }

    protected override DbTransaction? DbTransaction
    {
        get => null;
        set => throw new NotSupportedException("Rent a connection and begin the transaction on it.");
    }

    public override void Cancel() => _batch.Cancel();

    public override void Prepare() => throw new NotSupportedException("A batch created by the pool cannot be prepared; rent a connection instead.");

    public override Task PrepareAsync(CancellationToken cancellationToken = default) =>
        Task.FromException(new NotSupportedException("A batch created by the pool cannot be prepared; rent a connection instead."));

    public override int ExecuteNonQuery()
    {
        using var connection = _pool.OpenConnection();
        _batch.Connection = connection;
        return _batch.ExecuteNonQuery();
    }

    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _batch.Connection = connection;
            return await _batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override object? ExecuteScalar()
    {
        using var connection = _pool.OpenConnection();
        _batch.Connection = connection;
        return _batch.ExecuteScalar();
    }

    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _batch.Connection = connection;
            return await _batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    protected override DbBatchCommand CreateDbBatchCommand() => _batch.CreateBatchCommand();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        var connection = _pool.OpenConnection();
        try
        {
            _batch.Connection = connection;
            return _batch.ExecuteReader(behavior | CommandBehavior.CloseConnection);
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
            _batch.Connection = connection;
            return await _batch.ExecuteReaderAsync(behavior | CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override void Dispose()
    {
        _batch.Dispose();
        base.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        await _batch.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}

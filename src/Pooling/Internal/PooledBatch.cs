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
    private readonly NpgsqlBatch _batch = new();
    private readonly PooledExecution<NpgsqlBatch> _execution;

    public PooledBatch(PostgresPool pool) =>
        _execution = new PooledExecution<NpgsqlBatch>(pool, _batch, static (batch, connection) => batch.Connection = connection);

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

    public override int ExecuteNonQuery() => _execution.Execute(static batch => batch.ExecuteNonQuery());

    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken = default) =>
        _execution.ExecuteAsync(static (batch, token) => batch.ExecuteNonQueryAsync(token), cancellationToken);

    public override object? ExecuteScalar() => _execution.Execute(static batch => batch.ExecuteScalar());

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken = default) =>
        _execution.ExecuteAsync(static (batch, token) => batch.ExecuteScalarAsync(token), cancellationToken);

    protected override DbBatchCommand CreateDbBatchCommand() => _batch.CreateBatchCommand();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) =>
        _execution.ExecuteReader(behavior, static (batch, closing) => batch.ExecuteReader(closing));

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        await _execution.ExecuteReaderAsync(behavior, static (batch, closing, token) => batch.ExecuteReaderAsync(closing, token), cancellationToken)
            .ConfigureAwait(false);

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

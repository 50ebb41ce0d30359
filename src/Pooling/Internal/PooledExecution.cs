using System.Data;
using Npgsql;

namespace Resilience.Pooling;

/// <summary>
/// The one way <see cref="PooledCommand"/> and <see cref="PooledBatch"/> run: rent a connection from the pool for a single
/// execution, attach it to the wrapped Npgsql command or batch, and give it back when the execution ends (for readers, when
/// the reader is closed, through <see cref="CommandBehavior.CloseConnection"/>; if opening the reader fails, at once).
/// </summary>
/// <typeparam name="TTarget">The wrapped <see cref="NpgsqlCommand"/> or <see cref="NpgsqlBatch"/>.</typeparam>
internal sealed class PooledExecution<TTarget>
{
    private readonly PostgresPool _pool;
    private readonly TTarget _target;
    private readonly Action<TTarget, NpgsqlConnection> _attach;

    public PooledExecution(PostgresPool pool, TTarget target, Action<TTarget, NpgsqlConnection> attach)
    {
        _pool = pool;
        _target = target;
        _attach = attach;
    }

    /// <summary>Runs <paramref name="execute"/> on a rented connection and returns the connection when it completes.</summary>
    public TResult Execute<TResult>(Func<TTarget, TResult> execute)
    {
        using var connection = _pool.OpenConnection();
        _attach(_target, connection);
        return execute(_target);
    }

    /// <summary>Asynchronous <see cref="Execute{TResult}"/>.</summary>
    public async Task<TResult> ExecuteAsync<TResult>(
        Func<TTarget, CancellationToken, Task<TResult>> execute, CancellationToken cancellationToken)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _attach(_target, connection);
            return await execute(_target, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens a reader on a rented connection with <see cref="CommandBehavior.CloseConnection"/> added to
    /// <paramref name="behavior"/>, so closing the reader returns the connection; returns it at once if opening fails.
    /// </summary>
    public TReader ExecuteReader<TReader>(CommandBehavior behavior, Func<TTarget, CommandBehavior, TReader> execute)
    {
        var connection = _pool.OpenConnection();
        try
        {
            _attach(_target, connection);
            return execute(_target, behavior | CommandBehavior.CloseConnection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Asynchronous <see cref="ExecuteReader{TReader}"/>.</summary>
    public async Task<TReader> ExecuteReaderAsync<TReader>(
        CommandBehavior behavior,
        Func<TTarget, CommandBehavior, CancellationToken, Task<TReader>> execute,
        CancellationToken cancellationToken)
    {
        var connection = await _pool.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _attach(_target, connection);
            return await execute(_target, behavior | CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

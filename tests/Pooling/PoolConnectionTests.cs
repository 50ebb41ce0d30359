using System.Data;
using System.Data.Common;
using Dapper;
using Npgsql;
using Pgvector;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>The pool hands out plain Npgsql connections: Dapper, transactions, COPY and pgvector work unchanged.</summary>
public sealed class PoolConnectionTests(ServiceFixture services)
{
    [Fact]
    public async Task Rented_connection_runs_pgvector_queries_through_npgsql_and_dapper()
    {
        VectorTypeHandler.Register();
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("conn"), o => o.MaxSize = 2));
        var ct = TestContext.Current.CancellationToken;

        await using var connection = await pool.OpenConnectionAsync(ct);
        Assert.Equal(ConnectionState.Open, connection.State);

        await using var command = new NpgsqlCommand("SELECT $1::vector <-> $2::vector", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(new float[] { 0, 0, 0 }) });
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(new float[] { 3, 4, 0 }) });
        Assert.Equal(5.0, (double)(await command.ExecuteScalarAsync(ct))!, 6);

        var echoed = await connection.QuerySingleAsync<Vector>("SELECT @v::vector", new { v = new Vector(new float[] { 1, 2, 3 }) });
        Assert.Equal(new float[] { 1, 2, 3 }, echoed.ToArray());
    }

    [Fact]
    public async Task Transactions_and_binary_copy_work_on_a_rented_connection()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("tx")));
        var ct = TestContext.Current.CancellationToken;
        var table = $"pool_copy_{Guid.NewGuid():N}";
        await using var connection = await pool.OpenConnectionAsync(ct);
        await connection.ExecuteAsync($"CREATE TABLE {table} (id int PRIMARY KEY, embedding vector(3))");
        try
        {
            await using (var importer = await connection.BeginBinaryImportAsync($"COPY {table} (id, embedding) FROM STDIN (FORMAT BINARY)", ct))
            {
                for (var i = 0; i < 10; i++)
                {
                    await importer.StartRowAsync(ct);
                    await importer.WriteAsync(i, ct);
                    await importer.WriteAsync(new Vector(new float[] { i, i, i }), ct);
                }

                await importer.CompleteAsync(ct);
            }

            await using (var rolledBack = await connection.BeginTransactionAsync(ct))
            {
                await connection.ExecuteAsync($"DELETE FROM {table}", transaction: rolledBack);
                await rolledBack.RollbackAsync(ct);
            }

            await using (var committed = await connection.BeginTransactionAsync(ct))
            {
                await connection.ExecuteAsync($"DELETE FROM {table} WHERE id >= 5", transaction: committed);
                await committed.CommitAsync(ct);
            }

            Assert.Equal(5, await connection.ExecuteScalarAsync<int>($"SELECT count(*) FROM {table}"));
        }
        finally
        {
            await connection.ExecuteAsync($"DROP TABLE {table}");
        }
    }

    [Fact]
    public async Task Works_as_a_plain_DbDataSource()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("dbds"), o => o.MaxSize = 1));
        DbDataSource dataSource = pool;
        var ct = TestContext.Current.CancellationToken;

        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            Assert.IsType<NpgsqlConnection>(connection);
            Assert.Equal(1, pool.GetSnapshot().Busy);
        }

        Assert.Equal(0, pool.GetSnapshot().Busy);
        await using (var command = dataSource.CreateCommand("SELECT 40 + 2"))
        {
            Assert.Equal(42, (int)(await command.ExecuteScalarAsync(ct))!);
        }

        await using (var command = dataSource.CreateCommand("SELECT generate_series(1, 3)"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            var sum = 0;
            while (await reader.ReadAsync(ct))
            {
                sum += reader.GetInt32(0);
            }

            Assert.Equal(6, sum);
            Assert.Equal(1, pool.GetSnapshot().Busy);
        }

        Assert.Equal(0, pool.GetSnapshot().Busy);
        using (var sync = dataSource.OpenConnection())
        {
            Assert.Equal(ConnectionState.Open, sync.State);
        }

        Assert.Throws<NotSupportedException>(() => dataSource.CreateConnection());
        Assert.DoesNotContain("Password", pool.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CreateBatch_on_the_pool_rents_a_connection_per_execution()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("batch"), o => o.MaxSize = 1));
        DbDataSource dataSource = pool;
        var ct = TestContext.Current.CancellationToken;

        await using (var batch = dataSource.CreateBatch())
        {
            var first = batch.CreateBatchCommand();
            first.CommandText = "SELECT 1";
            var second = batch.CreateBatchCommand();
            second.CommandText = "SELECT 2";
            batch.BatchCommands.Add(first);
            batch.BatchCommands.Add(second);

            Assert.Equal(1, await batch.ExecuteScalarAsync(ct));
            Assert.Equal(0, pool.GetSnapshot().Busy);
            Assert.Equal(1, batch.ExecuteScalar());
            Assert.Equal(0, pool.GetSnapshot().Busy);

            var values = new List<int>();
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                Assert.Equal(1, pool.GetSnapshot().Busy);
                do
                {
                    while (await reader.ReadAsync(ct))
                    {
                        values.Add(reader.GetInt32(0));
                    }
                }
                while (await reader.NextResultAsync(ct));
            }

            Assert.Equal([1, 2], values);
            Assert.Equal(0, pool.GetSnapshot().Busy);
            Assert.Throws<NotSupportedException>(batch.Prepare);
        }

        // The rent is still bounded by the pool: with the only slot held, a batch waits for AcquireTimeout like any caller.
        await using var held = await pool.OpenConnectionAsync(ct);
        await using var waiting = dataSource.CreateBatch();
        var command = waiting.CreateBatchCommand();
        command.CommandText = "SELECT 1";
        waiting.BatchCommands.Add(command);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = waiting.ExecuteNonQueryAsync(cancel.Token);
        Assert.Equal(1, pool.Waiters);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public async Task Backend_changes_after_MaxUses_leases()
    {
        using var meters = new TestMeters();
        using var recycled = meters.Collect<long>("resilience.pool.connection.recycled");
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("uses"), o => { o.MaxSize = 1; o.MaxUses = 3; }), meterFactory: meters.Factory);
        var ct = TestContext.Current.CancellationToken;

        var pids = new List<int>();
        for (var i = 0; i < 7; i++)
        {
            await using var connection = await pool.OpenConnectionAsync(ct);
            pids.Add(await connection.ExecuteScalarAsync<int>("SELECT pg_backend_pid()"));
        }

        Assert.Equal(pids[0], pids[1]);
        Assert.Equal(pids[0], pids[2]);
        Assert.NotEqual(pids[2], pids[3]);
        Assert.Equal(pids[3], pids[4]);
        Assert.Equal(pids[3], pids[5]);
        Assert.NotEqual(pids[5], pids[6]);
        var uses = recycled.GetMeasurementSnapshot().Where(m => m.Tags["reason"] as string == "uses" && m.Tags["db.client.connection.pool.name"] as string == pool.Name);
        Assert.Equal(2, uses.Sum(m => m.Value));
    }

    [Fact]
    public async Task A_connection_that_comes_back_broken_is_discarded()
    {
        using var meters = new TestMeters();
        using var recycled = meters.Collect<long>("resilience.pool.connection.recycled");
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("broken"), o => o.MaxSize = 1), meterFactory: meters.Factory);
        var ct = TestContext.Current.CancellationToken;

        int brokenPid;
        await using (var connection = await pool.OpenConnectionAsync(ct))
        {
            brokenPid = connection.ProcessID;
            await Assert.ThrowsAnyAsync<Exception>(() => connection.ExecuteAsync("SELECT pg_terminate_backend(pg_backend_pid())"));
            Assert.NotEqual(ConnectionState.Open, connection.State);
        }

        Assert.Equal(0, pool.GetSnapshot().Busy);
        await using (var connection = await pool.OpenConnectionAsync(ct))
        {
            Assert.NotEqual(brokenPid, connection.ProcessID);
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1"));
        }

        Assert.Contains(recycled.GetMeasurementSnapshot(), m => m.Tags["reason"] as string == "broken" && m.Tags["db.client.connection.pool.name"] as string == pool.Name);
    }

    [Fact]
    public async Task Closing_without_dispose_returns_the_slot_and_a_second_dispose_is_harmless()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("close"), o => o.MaxSize = 1));
        var ct = TestContext.Current.CancellationToken;
        var connection = await pool.OpenConnectionAsync(ct);
        await connection.CloseAsync();
        await connection.DisposeAsync();
        connection.Dispose();
        Assert.Equal(0, pool.GetSnapshot().Busy);
        await using var again = await pool.OpenConnectionAsync(ct);
        Assert.Equal(1, pool.GetSnapshot().Busy);
    }

    [Fact]
    public async Task A_returned_connection_cannot_be_reopened_behind_the_pools_back()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("reopen"), o => { o.MaxSize = 1; o.AcquireTimeout = TimeSpan.FromSeconds(1); }));
        var ct = TestContext.Current.CancellationToken;
        var connection = await pool.OpenConnectionAsync(ct);
        connection.Close();

        // Refused like CreateConnection().Open(): ObjectDisposedException is an InvalidOperationException.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connection.OpenAsync(ct));
        Assert.Throws<ObjectDisposedException>(connection.Open);
        Assert.Equal(ConnectionState.Closed, connection.State);
        Assert.Equal(0, pool.GetSnapshot().Busy);

        // The slot is really free: the next rent gets it at once, with the pool's own bookkeeping.
        await using var next = await pool.OpenConnectionAsync(ct);
        Assert.Equal(ConnectionState.Open, next.State);
        Assert.Equal(1, pool.GetSnapshot().Busy);
    }

    [Fact]
    public async Task A_second_rent_fails_with_the_pools_timeout_not_npgsqls_while_a_stale_object_is_reopened()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("reopen2"), o => { o.MaxSize = 1; o.AcquireTimeout = TimeSpan.FromMilliseconds(300); }));
        var ct = TestContext.Current.CancellationToken;
        var first = await pool.OpenConnectionAsync(ct);
        await first.DisposeAsync();
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => first.OpenAsync(ct));

        await using var held = await pool.OpenConnectionAsync(ct);
        var timeout = await Assert.ThrowsAsync<PoolAcquireTimeoutException>(async () => await pool.OpenConnectionAsync(ct));
        Assert.IsType<TimeoutException>(timeout.InnerException);
        Assert.Equal(1, pool.GetSnapshot().Busy);
    }
}

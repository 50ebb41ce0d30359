using Dapper;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.TestSupport;
using static Resilience.Pooling.Tests.PoolTestHelpers;

namespace Resilience.Pooling.Tests;

/// <summary>Bounded waits: FIFO order, timeouts with an actionable message, the caller's cancellation, and hand-over of late opens.</summary>
public sealed class PoolWaitingTests(ServiceFixture services)
{
    [Fact]
    public async Task Waiters_are_served_first_in_first_out()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("fifo"), o => o.MaxSize = 1));
        var ct = TestContext.Current.CancellationToken;
        var holder = await pool.OpenConnectionAsync(ct);

        var order = new List<int>();
        var waiters = new List<Task>();
        for (var i = 0; i < 6; i++)
        {
            var id = i;
            waiters.Add(Task.Run(async () =>
            {
                await using var connection = await pool.OpenConnectionAsync(ct);
                lock (order)
                {
                    order.Add(id);
                }
            }, ct));

            // Enqueue in a known order: wait until this one is queued before starting the next.
            while (pool.Waiters < i + 1)
            {
                await Task.Yield();
            }
        }

        await holder.DisposeAsync();
        await Task.WhenAll(waiters);
        Assert.Equal([0, 1, 2, 3, 4, 5], order);
        Assert.Equal(0, pool.Waiters);
    }

    [Fact]
    public async Task Timeout_throws_a_typed_exception_naming_pool_size_waiters_and_longest_hold()
    {
        var time = new FakeTimeProvider();
        var password = new NpgsqlConnectionStringBuilder(await services.PostgresAsync()).Password!;
        await using var pool = new PostgresPool(
            Options(await services.PostgresAsync(), UniqueAppName("timeout"), o => { o.MaxSize = 1; o.AcquireTimeout = TimeSpan.FromSeconds(2); }),
            timeProvider: time);
        var ct = TestContext.Current.CancellationToken;
        await using var holder = await pool.OpenConnectionAsync(ct);

        var first = pool.OpenConnectionAsync(ct).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        var second = pool.OpenConnectionAsync(ct).AsTask();
        Assert.Equal(2, pool.Waiters);

        time.Advance(TimeSpan.FromSeconds(1));
        var ex = await Assert.ThrowsAsync<PoolAcquireTimeoutException>(() => first);
        Assert.False(second.IsCompleted);
        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.Equal(pool.Name, ex.PoolName);
        Assert.Equal(1, ex.MaxSize);
        Assert.Equal(1, ex.Waiters);
        Assert.Equal(TimeSpan.FromSeconds(2), ex.LongestHold);
        Assert.Contains($"'{pool.Name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxSize 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 other caller(s) were waiting", ex.Message, StringComparison.Ordinal);
        Assert.Contains("longest current hold was 2 s", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, ex.Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<PoolAcquireTimeoutException>(() => second);
        Assert.Equal(0, pool.Waiters);
    }

    [Fact]
    public async Task Caller_cancellation_stays_OperationCanceledException_and_leaves_no_waiter()
    {
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("cancel"), o => o.MaxSize = 1));
        var ct = TestContext.Current.CancellationToken;
        await using var holder = await pool.OpenConnectionAsync(ct);

        using var cts = new CancellationTokenSource();
        var waiting = pool.OpenConnectionAsync(cts.Token).AsTask();
        Assert.Equal(1, pool.Waiters);
        await cts.CancelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.IsNotType<PostgresPoolException>(ex, exactMatch: false);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(0, pool.Waiters);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.OpenConnectionAsync(cts.Token).AsTask());
        Assert.Equal(1, pool.GetSnapshot().Busy);
    }

    [Fact]
    public async Task An_open_that_completes_after_its_caller_gave_up_goes_to_the_next_caller()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var physicalOpens = 0;
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("late"), o =>
        {
            o.MaxSize = 1;
            o.ConfigureDataSource = b => b.UsePhysicalConnectionInitializer(
                _ => throw new NotSupportedException("sync path not used"),
                async _ =>
                {
                    Interlocked.Increment(ref physicalOpens);
                    await gate.Task;
                });
        }));
        var ct = TestContext.Current.CancellationToken;

        using var cts = new CancellationTokenSource();
        var opening = pool.OpenConnectionAsync(cts.Token).AsTask();
        Assert.False(opening.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => opening);

        var next = pool.OpenConnectionAsync(ct).AsTask();
        Assert.False(next.IsCompleted);
        Assert.Equal(1, pool.Waiters);

        gate.SetResult();
        await using var connection = await next;
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1"));
        Assert.Equal(1, Volatile.Read(ref physicalOpens));
        Assert.Equal(1, pool.GetSnapshot().PhysicalConnections);
    }

    [Fact]
    public async Task A_failed_open_frees_its_slot()
    {
        var fail = 1;
        await using var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("failopen"), o =>
        {
            o.MaxSize = 1;
            o.ConfigureDataSource = b => b.UsePhysicalConnectionInitializer(
                _ => throw new NotSupportedException("sync path not used"),
                _ => Interlocked.Exchange(ref fail, 0) == 1 ? throw new InvalidOperationException("injected open failure") : Task.CompletedTask);
        }));
        var ct = TestContext.Current.CancellationToken;

        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.OpenConnectionAsync(ct).AsTask());
        Assert.Equal(0, pool.GetSnapshot().Busy);
        await using var connection = await pool.OpenConnectionAsync(ct);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1"));
    }

    [Fact]
    public async Task Disposing_the_pool_fails_waiters_and_later_rents()
    {
        var pool = new PostgresPool(Options(await services.PostgresAsync(), UniqueAppName("dispose"), o => o.MaxSize = 1));
        var ct = TestContext.Current.CancellationToken;
        var holder = await pool.OpenConnectionAsync(ct);
        var waiting = pool.OpenConnectionAsync(ct).AsTask();
        await pool.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pool.OpenConnectionAsync(ct).AsTask());
        await holder.DisposeAsync();
    }
}

using Npgsql;

namespace Resilience.Scoring.Tests;

/// <summary>
/// Occupies the store's statement slot: a seeded row is locked by another transaction and one apply on it waits for
/// that lock inside the database, so everything applied meanwhile queues in the store.
/// </summary>
internal sealed class BlockedSlot : IAsyncDisposable
{
    private readonly ScoreStore _store;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private bool _released;

    private BlockedSlot(ScoreStore store, NpgsqlConnection connection, NpgsqlTransaction transaction, Task<ScoreResult> blocked)
    {
        _store = store;
        _connection = connection;
        _transaction = transaction;
        Blocked = blocked;
    }

    public Task<ScoreResult> Blocked { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Blocks the slot of <paramref name="store"/> (the database's own store when <see langword="null"/>).</summary>
    public static async Task<BlockedSlot> OpenAsync(ScoringDatabase db, CancellationToken blockedCallToken, ScoreStore? store = null)
    {
        store ??= db.Store;
        await store.ApplyAsync(ScoreEvent.Add("blocker-seed", "blocker", "c", 1), Ct);
        var connection = await db.DataSource.OpenConnectionAsync(Ct);
        var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var command = new NpgsqlCommand($"SELECT 1 FROM {db.Schema}.score_projection WHERE user_id = 'blocker' FOR UPDATE", connection, transaction))
        {
            await command.ExecuteScalarAsync(Ct);
        }

        var blocked = store.ApplyAsync(ScoreEvent.Add("blocker-waits", "blocker", "c", 1), blockedCallToken);
        var slot = new BlockedSlot(store, connection, transaction, blocked);
        await slot.WaitForAsync("the blocked apply to wait on the row lock", async () =>
            await db.ScalarAsync(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", db.ApplicationName) == 1);
        return slot;
    }

    public Task WaitUntilQueuedAsync(int count) =>
        WaitForAsync($"{count} applies to queue", () => Task.FromResult(_store.QueuedApplies == count));

    public async Task ReleaseAsync()
    {
        if (!_released)
        {
            _released = true;
            await _transaction.CommitAsync(Ct);
            if (!Blocked.IsCanceled)
            {
                Assert.Equal(2L, (await Blocked).Version);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_released)
        {
            _released = true;
            await _transaction.RollbackAsync(CancellationToken.None);
        }

        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private async Task WaitForAsync(string what, Func<Task<bool>> condition)
    {
        // Not a timing assertion: a generous bound so that a broken store fails the test instead of hanging it.
        for (var attempt = 0; attempt < 3_000; attempt++)
        {
            if (await condition())
            {
                return;
            }

            Assert.False(Blocked.IsCompleted, $"The blocked apply finished early while waiting for {what}.");
            await Task.Delay(10, Ct);
        }

        Assert.Fail($"Gave up waiting for {what}.");
    }
}

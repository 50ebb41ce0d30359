namespace Resilience.Locks.Redis;

/// <summary>
/// The Lua scripts, one round trip each. KEYS[1] is the lock key, KEYS[2] the fence key. A lock value is the
/// 32-character hex token followed by the owner id, so the owner id is <c>string.sub(v, 33)</c> and the token never leaves Redis.
/// </summary>
internal static class LockScripts
{
    /// <summary>ARGV[1] = token..owner, ARGV[2] = TTL in ms. Returns {1, fence} or {0, holderOwner, pttl}.</summary>
    public const string Acquire = """
        if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          return {1, redis.call('incr', KEYS[2])}
        end
        local v = redis.call('get', KEYS[1])
        if not v then return {0, '', -2} end
        return {0, string.sub(v, 33), redis.call('pttl', KEYS[1])}
        """;

    /// <summary>
    /// Compare-and-delete. ARGV[1] = token..owner. Returns 1 when deleted, 0 when the key is gone or not ours. A release
    /// reuses the acquire's KEYS and ARGV arrays (no new arrays per release); KEYS[2] and ARGV[2] are ignored here.
    /// </summary>
    public const string Release = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          return redis.call('del', KEYS[1])
        end
        return 0
        """;

    /// <summary>
    /// Several callers' acquires in one call (combining): KEYS = lock1, fence1, lock2, fence2, …; ARGV = value1, ttl1, value2,
    /// ttl2, …. Runs, per pair and in order, exactly <see cref="Acquire"/> and returns one element per caller in the same shape
    /// ({1, fence} or {0, holderOwner, pttl}), or {-1, error} when a command failed for that caller's keys only (a key of
    /// the wrong type written by someone else): <c>redis.pcall</c> keeps one caller's error from failing the others.
    /// The whole script is atomic, so each key's check-and-set is as atomic as in the single-key script.
    /// </summary>
    public const string AcquireMany = """
        local r = {}
        for i = 1, #KEYS, 2 do
          local ok = redis.pcall('set', KEYS[i], ARGV[i], 'NX', 'PX', ARGV[i + 1])
          if type(ok) == 'table' and ok.err then
            r[#r + 1] = {-1, ok.err}
          elseif ok then
            local f = redis.pcall('incr', KEYS[i + 1])
            if type(f) == 'table' then r[#r + 1] = {-1, f.err} else r[#r + 1] = {1, f} end
          else
            local v = redis.pcall('get', KEYS[i])
            if type(v) == 'table' then
              r[#r + 1] = {-1, v.err}
            elseif not v then
              r[#r + 1] = {0, '', -2}
            else
              r[#r + 1] = {0, string.sub(v, 33), redis.call('pttl', KEYS[i])}
            end
          end
        end
        return r
        """;

    /// <summary>
    /// Several callers' releases in one call (combining): KEYS = lock keys, ARGV = the lease values. Runs, per key and in
    /// order, exactly <see cref="Release"/>; returns one element per caller: 1 deleted, 0 gone or not ours, or {-1, error}.
    /// </summary>
    public const string ReleaseMany = """
        local r = {}
        for i = 1, #KEYS do
          local v = redis.pcall('get', KEYS[i])
          if type(v) == 'table' then
            r[i] = {-1, v.err}
          elseif v == ARGV[i] then
            r[i] = redis.call('del', KEYS[i])
          else
            r[i] = 0
          end
        end
        return r
        """;

    /// <summary>Compare-and-PEXPIRE; never re-creates an expired key. ARGV[1] = token..owner, ARGV[2] = TTL in ms. Returns 1 or 0.</summary>
    public const string Extend = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          return redis.call('pexpire', KEYS[1], ARGV[2])
        end
        return 0
        """;

    /// <summary>Owner-checked delete. ARGV[1] = authenticated owner id. Returns 1 released, 0 not held, -1 refused (other owner).</summary>
    public const string ForceRelease = """
        local v = redis.call('get', KEYS[1])
        if not v then return 0 end
        if string.sub(v, 33) == ARGV[1] then
          redis.call('del', KEYS[1])
          return 1
        end
        return -1
        """;

    /// <summary>Reads the holder. Returns {owner, pttl, fence} or {'', -2, fence} when free.</summary>
    public const string Info = """
        local f = tonumber(redis.call('get', KEYS[2]) or '0')
        local v = redis.call('get', KEYS[1])
        if not v then return {'', -2, f} end
        return {string.sub(v, 33), redis.call('pttl', KEYS[1]), f}
        """;
}

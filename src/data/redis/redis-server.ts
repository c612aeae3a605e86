import { checkedImage } from '../internal';

/**
 * Which server runs the Redis Cluster: Valkey 8 (BSD-licensed, the default)
 * or Redis 7 (RSALv2/SSPL since 7.4). Both speak the same protocol and
 * cluster bus, so clients and the bootstrap script work with either; only the
 * binaries' names differ.
 */
export class RedisServer {
  /** Pinned Valkey 8 image. */
  public static readonly VALKEY_IMAGE = 'valkey/valkey:8.0.2';
  /** Pinned Redis 7 image. */
  public static readonly REDIS_IMAGE = 'redis:7.4.1';

  /** Valkey 8. */
  public static valkey8(image: string = RedisServer.VALKEY_IMAGE): RedisServer {
    return new RedisServer(checkedImage('image', image), 'valkey-server', 'valkey-cli');
  }

  /** Redis 7 (7.0 at least: cluster hostnames). */
  public static redis7(image: string = RedisServer.REDIS_IMAGE): RedisServer {
    return new RedisServer(checkedImage('image', image), 'redis-server', 'redis-cli');
  }

  private constructor(
    /** Container image. */
    public readonly image: string,
    /** Server binary. */
    public readonly serverBinary: string,
    /** Client binary (probes, bootstrap). */
    public readonly cliBinary: string) {}
}

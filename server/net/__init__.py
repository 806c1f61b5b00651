"""The asyncio shell: connections, dispatch, delivery, the tick loop, HTTP, metrics, logs,
shutdown. It feeds the core requests and the time, and delivers what the core emits."""

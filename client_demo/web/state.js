// What the views share: who we are, where we sit, and the race on screen. Anything
// only one view needs (pages, timers, the unsent keys) stays inside that view's module.
export const state = {
  me: null,                    // welcome: {player_id, name}
  welcomed: false,             // the server said welcome on the current connection
  view: "name",                // "name" | "home" | "room"
  room: null,                  // the last `room` of the room we are in or watch
  slot: null,
  spectator: false,
  seatedBy: null,              // the request that seated us ({type: "practice", text_id, ...})
  watchCode: null,             // the code we watch by (sent again after a reconnect)
  inviteCode: null,            // the code of the invite link the page was opened with
  race: null,                  // {race_id, roomId, text, chars, start, results, finished, doneAt}
  typing: null,                // TypingState: the local prediction of our typed text
};

export function isHost() {
  const { room, spectator, slot } = state;
  return !!room && !spectator && room.host != null && room.host === slot;
}

/** Is the race on screen this room's? (A `countdown` may arrive just before its `joined`.) */
export function raceBelongsTo(room) {
  const race = state.race;
  if (!race || !room) return false;
  if (state.room && state.room.room_id === room.room_id) return true;
  return race.roomId == null || (room.race_id != null && room.race_id === race.race_id);
}

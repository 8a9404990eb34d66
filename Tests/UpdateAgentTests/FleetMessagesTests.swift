import Testing

@testable import UpdateAgent

/// What a node says of a group whose slots are all held.
@Suite struct FleetMessagesTests {
    @Test func aFullGroupNamesItsHolders() {
        #expect(FleetSnapshot.full(total: 1, holders: ["a"], group: "g") == "the 1 reboot slot of group g is held, by a")
        #expect(FleetSnapshot.full(total: 2, holders: ["a", "b"], group: "g") == "all 2 reboot slots of group g are held, by a, b")
    }

    /// `total_slots: 0` (a fleet stopped by hand) has no holders to name.
    @Test func aGroupWithoutSlotsSaysSo() {
        #expect(FleetSnapshot.full(total: 0, holders: [], group: "g") == "group g has no reboot slots (its semaphore's total_slots is 0)")
    }
}

# Installation layout and the Debian package: `cmake --build build --target package` (cpack -G DEB).
include(GNUInstallDirs)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/binlog-relay.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/binlog-relay.toml DESTINATION /etc/binlog-relay
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "binlog-relay")
set(CPACK_PACKAGE_VENDOR "binlog-relay developers")
set(CPACK_PACKAGE_CONTACT "binlog-relay developers <dev@binlog-relay.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "MySQL binlog relay: pulls a source's binlog as a replica, stores it durably, serves it as a master")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# The build keeps debug information (RelWithDebInfo); the package ships the stripped binary.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "database")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/postrm;${PROJECT_SOURCE_DIR}/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

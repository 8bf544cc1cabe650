# Installation layout and the Debian package: `cmake --build build --target package` (cpack -G DEB).
include(GNUInstallDirs)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/binlog-relay.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/binlog-relay.toml DESTINATION /etc/binlog-relay
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian wants a copyright file (DEP-5), the changelog and the man pages gzipped with -9n.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/lintian-overrides DESTINATION share/lintian/overrides
        RENAME binlog-relay)
find_program(BRELAY_GZIP gzip REQUIRED)
set(brelay_gzipped)
foreach(source IN ITEMS man/binlog-relay.8 man/binlog-relay.toml.5 debian/changelog)
  get_filename_component(name ${source} NAME)
  if(name STREQUAL "changelog")
    set(name changelog.Debian)
  endif()
  set(gzipped ${PROJECT_BINARY_DIR}/packaging/${name}.gz)
  add_custom_command(OUTPUT ${gzipped}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
    COMMAND ${BRELAY_GZIP} -9n -c ${PROJECT_SOURCE_DIR}/packaging/${source} > ${gzipped}
    DEPENDS ${PROJECT_SOURCE_DIR}/packaging/${source}
    COMMENT "Compressing packaging/${source}")
  list(APPEND brelay_gzipped ${gzipped})
endforeach()
add_custom_target(packaging_files ALL DEPENDS ${brelay_gzipped})
install(FILES ${PROJECT_BINARY_DIR}/packaging/binlog-relay.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_BINARY_DIR}/packaging/binlog-relay.toml.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The Grafana dashboard, the Prometheus alert rules and their README (not their CI tests).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/packaging/monitoring/ DESTINATION share/binlog-relay OPTIONAL
        FILES_MATCHING PATTERN "*.json" PATTERN "*.yml" PATTERN "README.md" PATTERN "tests" EXCLUDE)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "binlog-relay")
set(CPACK_PACKAGE_VENDOR "binlog-relay developers")
set(CPACK_PACKAGE_CONTACT "binlog-relay developers <dev@binlog-relay.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MySQL/MariaDB binlog relay: pulls, stores and serves binlogs")
set(CPACK_PACKAGE_DESCRIPTION
    "binlog-relay connects to a MySQL or MariaDB server as a replica, pulls its
binary log, stores every event durably (event files and an LMDB index) and
serves the stored binlog again as a master to replicas, CDC readers and
mariadb-binlog, with retention by age and size.
.
The package installs the daemon with its systemd unit, an example
configuration, man pages, and a Grafana dashboard with Prometheus alerting
rules under /usr/share/binlog-relay.")
# A Debian revision: the package is not native, so its changelog is changelog.Debian.gz.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
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
